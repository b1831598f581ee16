/**
 * Reference data and per-project state catalogs. Also the builds' CatalogSource (a project's
 * catalog, cached briefly per runtime) and ReferenceChecks (a new build's references must exist
 * and be active).
 */
import type { Principal } from '../auth/principal';
import type { Build } from '../builds/build.model';
import type { ReferenceChecks } from '../builds/build.service';
import { LruCache } from '../cache';
import {
  type CatalogSource,
  DEFAULT_MILESTONES,
  type Milestone,
  StateCatalog,
} from '../catalog/state-catalog';
import { canonicalDecimal, DEFAULT_CURRENCY } from '../cost/money';
import type { PlatformRate } from '../cost/pricing';
import { decodeCursor, encodeCursor } from '../db/cursor';
import { AppError } from '../errors';
import { idempotencyMismatch } from '../idempotency/idempotency';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { created } from '../outcome';
import type { MutationOptions, Outcome } from '../use-case';
import { DEFAULT_PROJECT_ID, type ReferenceItem, type ReferenceType, referenceKind } from './reference.model';
import { listStartKeyShape, type ReferenceRepository, type StoredCatalog } from './reference.repository';
import { type ListReferenceQuery, slugFor } from './reference.schema';

export interface ReferenceServiceDeps {
  repo: ReferenceRepository;
  idempotency: IdempotencyRepository;
  /** Seconds a project's catalog is reused before it is read again (0 = always read). */
  catalogCacheTtlSeconds: number;
  clock?: () => Date;
}

const notFound = (type: ReferenceType, id: string) => {
  const kind = referenceKind(type);
  return new AppError('not_found', `${capitalise(kind.label)} '${id}' does not exist`, {
    [kind.buildField]: id,
  });
};
const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const MAX_RACES = 5;

/**
 * A new build's references must exist and be active. They are read (consistently, one BatchGet)
 * just before the create, not checked inside its transaction: reference items are shared by every
 * build, and a ConditionCheck would make every create on a platform contend on one item.
 */
export class ReferenceService implements CatalogSource, ReferenceChecks {
  private readonly clock: () => Date;
  private readonly catalogs = new LruCache<string, { catalog: StateCatalog; until: number }>(200);
  private readonly rates = new LruCache<string, { rate: PlatformRate | null; until: number }>(200);

  constructor(private readonly deps: ReferenceServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async create(
    type: ReferenceType,
    input: Record<string, unknown> & { id?: string; name: string },
    actor: Principal,
    opts: MutationOptions = {},
  ): Promise<Outcome> {
    const replay = await this.replay(opts);
    if (replay) return replay;
    const id = input.id ?? slugFor(input);
    if (!id) {
      throw new AppError('validation_error', 'name has no letters or digits to make an id from; send an id', {
        field: 'id',
      });
    }
    const now = this.clock().toISOString();
    const item: ReferenceItem = {
      description: null,
      ...stored(type, input),
      id,
      version: 1,
      created_at: now,
      created_by: actor.id,
      updated_at: now,
      updated_by: actor.id,
      deactivated_at: null,
      deactivated_by: null,
    };
    if (type === 'platform') {
      item.region ??= null;
      item.partition ??= null;
      item.hourly_cost ??= null;
      item.currency ??= DEFAULT_CURRENCY;
    }
    const response = created(view(type, item));
    const extra = [];
    // A new project starts from the default catalog, written with it.
    if (type === 'project') extra.push(this.deps.repo.catalogPut(initialCatalog(id, now, actor.id), null));
    if (opts.idempotency)
      extra.push(this.deps.idempotency.transactPut(opts.idempotency, response, this.nowEpoch()));
    const result = await this.deps.repo.create(type, item, extra);
    if (result === 'exists') {
      const replayed = await this.replay(opts);
      if (replayed) return replayed;
      throw new AppError(
        'already_exists',
        `${capitalise(referenceKind(type).label)} '${id}' already exists`,
        {
          [referenceKind(type).buildField]: id,
        },
      );
    }
    if (result === 'idempotency_key_used') {
      const replayed = await this.replay(opts);
      if (replayed) return replayed;
      throw new AppError('conflict', 'A request with this Idempotency-Key is being processed; retry', {});
    }
    return { ...response, replayed: false, version: item.version };
  }

  async get(type: ReferenceType, id: string): Promise<Outcome> {
    const item = await this.load(type, id);
    return { body: view(type, item), replayed: false, version: item.version };
  }

  async list(type: ReferenceType, query: ListReferenceQuery): Promise<Outcome> {
    const include = query.include_deactivated === 'true';
    const scope = { reference: type, include };
    const start = query.cursor ? decodeCursor(query.cursor, scope, listStartKeyShape(type)) : undefined;
    const page = await this.deps.repo.list(type, include, query.limit, start);
    return {
      body: {
        items: page.items.map((i) => view(type, i)),
        next_cursor: page.next ? encodeCursor(page.next, scope) : null,
      },
      replayed: false,
    };
  }

  update(
    type: ReferenceType,
    id: string,
    fields: Record<string, unknown>,
    actor: Principal,
    opts: MutationOptions = {},
  ): Promise<Outcome> {
    return this.change(type, id, opts.ifMatch, (item, now) => ({
      ...item,
      ...stored(type, fields),
      updated_at: now,
      updated_by: actor.id,
    }));
  }

  /** Soft delete: the item stays readable (old builds still show it); new builds may not use it. */
  deactivate(type: ReferenceType, id: string, actor: Principal): Promise<Outcome> {
    return this.change(type, id, undefined, (item, now) =>
      item.deactivated_at
        ? null
        : { ...item, deactivated_at: now, deactivated_by: actor.id, updated_at: now, updated_by: actor.id },
    );
  }

  restore(type: ReferenceType, id: string, actor: Principal): Promise<Outcome> {
    return this.change(type, id, undefined, (item, now) =>
      item.deactivated_at
        ? { ...item, deactivated_at: null, deactivated_by: null, updated_at: now, updated_by: actor.id }
        : null,
    );
  }

  async getCatalog(projectId: string): Promise<Outcome> {
    await this.load('project', projectId);
    const stored = await this.deps.repo.getCatalog(projectId);
    const catalog = stored ?? initialCatalog(projectId, null, null);
    return { body: catalogView(catalog), replayed: false, version: catalog.version };
  }

  async putCatalog(
    projectId: string,
    stateCodes: Milestone[],
    actor: Principal,
    ifMatch?: number,
  ): Promise<Outcome> {
    await this.load('project', projectId);
    for (let race = 0; race < MAX_RACES; race++) {
      const stored = await this.deps.repo.getCatalog(projectId);
      const current = stored?.version ?? 0;
      if (ifMatch !== undefined && ifMatch !== current) throw preconditionFailed(ifMatch, current);
      const next: StoredCatalog = {
        project_id: projectId,
        state_codes: stateCodes,
        version: current + 1,
        updated_at: this.clock().toISOString(),
        updated_by: actor.id,
      };
      if (await this.deps.repo.putCatalog(next, stored ? current : null)) {
        this.catalogs.delete(projectId);
        return { body: catalogView(next), replayed: false, version: next.version };
      }
      if (ifMatch !== undefined) throw preconditionFailed(ifMatch, current + 1);
    }
    throw new AppError('conflict', `The catalog of project '${projectId}' is changing too fast; retry`, {});
  }

  /**
   * A platform's price (BuildServiceDeps.rates), cached like catalogs: a re-priced platform prices
   * the attempts that close after at most catalogCacheTtlSeconds. Null for a platform that is gone.
   */
  async rateOf(platformId: string): Promise<PlatformRate | null> {
    const now = this.clock().getTime();
    const hit = this.rates.get(platformId);
    if (hit && hit.until > now) return hit.rate;
    const item = await this.deps.repo.get('platform', platformId);
    const rate = item
      ? {
          hourly_cost: typeof item.hourly_cost === 'string' ? item.hourly_cost : null,
          currency: typeof item.currency === 'string' ? item.currency : DEFAULT_CURRENCY,
        }
      : null;
    if (this.deps.catalogCacheTtlSeconds > 0)
      this.rates.set(platformId, { rate, until: now + this.deps.catalogCacheTtlSeconds * 1000 });
    return rate;
  }

  /** CatalogSource: the project's catalog, or the default one for a project without a stored catalog. */
  async forProject(projectId: string): Promise<StateCatalog> {
    const now = this.clock().getTime();
    const hit = this.catalogs.get(projectId);
    if (hit && hit.until > now) return hit.catalog;
    const stored = await this.deps.repo.getCatalog(projectId);
    const catalog = new StateCatalog(stored?.state_codes ?? DEFAULT_MILESTONES);
    if (this.deps.catalogCacheTtlSeconds > 0)
      this.catalogs.set(projectId, { catalog, until: now + this.deps.catalogCacheTtlSeconds * 1000 });
    return catalog;
  }

  /** ReferenceChecks: every reference a new build names must exist and be active (422 unknown_reference). */
  async assertActive(build: Build): Promise<void> {
    const refs = (
      [
        ['project', build.project_id],
        ['platform', build.platform_id],
        ['image_type', build.image_type_id],
        ['os_version', build.os_version_id],
      ] as [ReferenceType, string | null][]
    ).filter((r): r is [ReferenceType, string] => r[1] !== null);
    const active = await this.deps.repo.activeIds(refs);
    for (const [type, id] of refs) {
      if (active.has(`${type}#${id}`)) continue;
      const kind = referenceKind(type);
      throw new AppError(
        'unknown_reference',
        `${kind.buildField}: ${kind.label} '${id}' does not exist or is deactivated`,
        { field: kind.buildField, id },
      );
    }
  }

  /** The `default` project, so a build that names no project has one. Idempotent. */
  async ensureDefaultProject(actor: Principal): Promise<void> {
    if (await this.deps.repo.get('project', DEFAULT_PROJECT_ID)) return;
    await this.create(
      'project',
      { id: DEFAULT_PROJECT_ID, name: 'Default', description: 'Builds that name no project' },
      actor,
    ).catch((error) => {
      if (!(error instanceof AppError && error.code === 'already_exists')) throw error;
    });
  }

  private async load(type: ReferenceType, id: string): Promise<ReferenceItem> {
    const item = await this.deps.repo.get(type, id);
    if (!item) throw notFound(type, id);
    return item;
  }

  /** Read, change, write conditioned on the version read; `apply` returning null means "nothing to do". */
  private async change(
    type: ReferenceType,
    id: string,
    ifMatch: number | undefined,
    apply: (item: ReferenceItem, now: string) => ReferenceItem | null,
  ): Promise<Outcome> {
    for (let race = 0; race < MAX_RACES; race++) {
      const item = await this.load(type, id);
      if (ifMatch !== undefined && ifMatch !== item.version) throw preconditionFailed(ifMatch, item.version);
      const next = apply(item, this.clock().toISOString());
      if (!next)
        return { outcome: 'unchanged', body: view(type, item), replayed: false, version: item.version };
      next.version = item.version + 1;
      if (await this.deps.repo.replace(type, next, item.version)) {
        if (type === 'platform') this.rates.delete(id);
        return { body: view(type, next), replayed: false, version: next.version };
      }
    }
    throw new AppError(
      'conflict',
      `${capitalise(referenceKind(type).label)} '${id}' is changing too fast; retry`,
      {},
    );
  }

  private nowEpoch = () => Math.floor(this.clock().getTime() / 1000);

  private async replay(opts: MutationOptions): Promise<Outcome | null> {
    const req = opts.idempotency;
    if (!req) return null;
    const stored = await this.deps.idempotency.find(req, this.nowEpoch());
    if (!stored) return null;
    if (stored.fingerprint !== req.fingerprint) throw idempotencyMismatch(req.key);
    return { ...stored.result, replayed: true };
  }
}

function initialCatalog(projectId: string, now: string | null, actor: string | null): StoredCatalog {
  return {
    project_id: projectId,
    state_codes: DEFAULT_MILESTONES.map((m) => ({ expected_duration_s: null, max_attempts: null, ...m })),
    version: now ? 1 : 0,
    updated_at: now ?? '',
    updated_by: actor ?? '',
  };
}

/**
 * An OS version's `version` (the OS release, "22.04") is kept as `os_version`: every item's
 * `version` attribute is its revision counter (conditional writes, If-Match), which would
 * otherwise overwrite it.
 */
function stored<F extends Record<string, unknown>>(type: ReferenceType, fields: F): F {
  // A rate is kept in its canonical form ("0.096000"), the form every view and attempt records.
  if (type === 'platform' && fields.hourly_cost !== undefined && fields.hourly_cost !== null)
    return { ...fields, hourly_cost: canonicalDecimal(fields.hourly_cost as string | number) };
  if (type !== 'os_version' || !('version' in fields)) return fields;
  const { version, ...rest } = fields;
  return { ...rest, os_version: version } as unknown as F;
}

function view(type: ReferenceType, item: ReferenceItem) {
  const { id, name, description, version, created_at, created_by, updated_at, updated_by, ...rest } = item;
  const { deactivated_at, deactivated_by, os_version, ...specific } = rest;
  return {
    id,
    kind: type,
    name,
    description: description ?? null,
    // Platforms made before prices existed have neither field.
    ...(type === 'platform' ? { hourly_cost: null, currency: DEFAULT_CURRENCY } : {}),
    ...specific,
    active: !deactivated_at,
    // For OS versions `version` is the release; their revision (the ETag) is `revision`.
    ...(type === 'os_version' ? { version: os_version ?? null, revision: version } : { version }),
    created_at,
    created_by,
    updated_at,
    updated_by,
    deactivated_at: deactivated_at ?? null,
    deactivated_by: deactivated_by ?? null,
  };
}

function catalogView(c: StoredCatalog) {
  return {
    project_id: c.project_id,
    version: c.version,
    updated_at: c.updated_at || null,
    updated_by: c.updated_by || null,
    state_codes: c.state_codes.map((m) => ({
      code: m.code,
      name: m.name,
      description: m.description ?? '',
      category: m.category ?? 'general',
      expected_duration_s: m.expected_duration_s ?? null,
      max_attempts: m.max_attempts ?? null,
    })),
  };
}

function preconditionFailed(expected: number, current: number) {
  return new AppError(
    'precondition_failed',
    `If-Match version ${expected} does not match: it is at version ${current}`,
    {
      expected_version: expected,
      current_version: current,
    },
  );
}

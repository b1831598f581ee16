/**
 * Build use cases. Framework-free: callers pass parsed input and a principal, and get back
 * an Outcome (what happened, the body) that lib/http maps to a status and idempotency replays.
 * Each change commits one transaction composed of named parts (changeTransaction).
 */
import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { Principal } from '../auth/principal';
import { LruCache } from '../cache';
import type { CatalogSource, StateCatalog } from '../catalog/state-catalog';
import type { PlatformRate } from '../cost/pricing';
import { decodeCursor, encodeCursor } from '../db/cursor';
import { type TransactItem, Transaction } from '../db/transaction';
import { AppError, notFound } from '../errors';
import {
  type IdempotencyRequest,
  idempotencyMismatch,
  type RecordedResult,
} from '../idempotency/idempotency';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { created, type OutcomeKind } from '../outcome';
import { backoffMs, retry, sleep } from '../retry';
import type { MutationOptions, Outcome } from '../use-case';
import type { Build, Change } from './build.model';
import {
  BUILD_PART,
  type BuildRepository,
  historyStartKeyShape,
  listStartKeyShape,
} from './build.repository';
import type {
  CancelInput,
  ChildrenQuery,
  CreateBuildInput,
  ForkInput,
  HistoryQuery,
  ListBuildsQuery,
  StateReportInput,
  UnblockInput,
} from './build.schema';
import { buildView, historyView, rollupView } from './build.view';
import { leaseHolder } from './lease-holder';
import {
  endExpiredLease,
  type LeaseClaim,
  LIVE_PART,
  type LiveItem,
  leaseCheck,
  liveUpdate,
} from './live.item';
import { type LiveSigns, type LostAttempt, lostAttempt } from './lost-attempt';
import { type ResumeAdvice, resumeAdvice } from './resume';
import {
  type ArtifactUnverifiedInput,
  applyArtifactUnverified,
  applyCancel,
  applyReport,
  applyUnblock,
  DEFAULT_HEARTBEAT_TIMEOUT_S,
  forkChild,
  newBuild,
  type RuleContext,
} from './transitions';

/** Name of the idempotency record's part in a change's transaction. */
export const IDEMPOTENCY_PART = 'idempotency';

/**
 * More parts for one change's transaction, beyond the build, its history, the live item and the
 * idempotency record (the artifacts a state report registers, the artifact an unverify updates).
 * `prepare` runs once the rules accepted the change, before its transaction (again after a lost
 * race), and returns parts by name plus fields for the response body. If one of them is refused,
 * `refused` turns that into the error the caller sees, or returns undefined to treat it as a lost
 * race (read again and retry).
 */
export interface ExtraParts {
  prepare(
    change: Change,
    before: Build | null,
    catalog: StateCatalog,
  ): Promise<{ parts: Record<string, TransactItem | undefined>; body?: Record<string, unknown> }>;
  refused?(name: string, old: Record<string, unknown> | undefined): Promise<AppError | undefined>;
}

/**
 * The ancestry of new builds (lib/lineage implements it). `prepare` runs before the first write
 * and refuses a build under a missing or revoked base or parent; the parts it returns go into each
 * new build's own transaction, so the check that no ancestor is revoked commits with the build.
 */
export interface AncestryParts {
  prepare(from: {
    parent_id?: string | null;
    base_build_id?: string | null;
  }): Promise<((build: Build) => Record<string, TransactItem>) | undefined>;
  /** The error for refused parts that are the ancestry's (an ancestor revoked meanwhile), else undefined. */
  refused(failed: ReadonlySet<string>): Promise<AppError | undefined>;
}

/**
 * The port a new build's references are checked through (422 unknown_reference when one is
 * missing or inactive): ReferenceService implements it, lib/compose wires it.
 */
export interface ReferenceChecks {
  assertActive(build: Build): Promise<void>;
}

export interface BuildServiceDeps {
  builds: BuildRepository;
  ancestry?: AncestryParts;
  idempotency: IdempotencyRepository;
  catalogs: CatalogSource;
  references?: ReferenceChecks;
  defaultMaxAttempts: number;
  /** BUILDSTATE_HEARTBEAT_TIMEOUT_S: when a lease-less running attempt is lost (lost-attempt.ts). */
  heartbeatTimeoutSeconds?: number;
  /** A platform's price now (lib/cost/pricing.ts): the rate of attempts that close, unless their worker gives its own. */
  rates?(platformId: string): Promise<PlatformRate | null>;
  /** The build's live item (lease and heartbeats), read for resume and for a possible takeover. */
  liveSigns?(id: string): Promise<LiveSigns | undefined>;
  clock?: () => Date;
  newId?: () => string;
}

/**
 * Lost races (another change committed between our read and our write) are re-read and re-validated.
 * Each retry sees a newer version, so the bound only matters under sustained contention on one build.
 */
const MAX_ATTEMPTS_ON_RACE = 10;

export class BuildService {
  private readonly clock: () => Date;
  private readonly newId: () => string;
  /** Builds this runtime last saw, by id: a hint for optimistic commits, never an answer on its own. */
  private readonly recent = new LruCache<string, Build>(500);

  private readonly tableName: string;

  constructor(private readonly deps: BuildServiceDeps) {
    this.tableName = deps.builds.tableName;
    this.clock = deps.clock ?? (() => new Date());
    this.newId = deps.newId ?? ulid;
  }

  async create(input: CreateBuildInput, actor: Principal, opts: MutationOptions = {}): Promise<Outcome> {
    const replay = await this.replay(opts.idempotency);
    if (replay) return replay;
    const id = input.id ?? this.newId();
    const catalog = await this.deps.catalogs.forProject(input.project_id);
    const change = newBuild(id, input, this.context(actor, catalog));
    const response = created(buildView(change.build, catalog));
    await this.deps.references?.assertActive(change.build);
    const ancestry = await this.deps.ancestry?.prepare({ base_build_id: change.build.base_build_id });
    const tx = this.changeTransaction(change, null, opts, response, undefined, ancestry?.(change.build));
    const result = await this.commitRetryingConflicts(tx);
    if (!result.committed) {
      if (result.failed.has(IDEMPOTENCY_PART)) return this.replayAfterRace(opts.idempotency!);
      if (result.failed.has(BUILD_PART)) {
        const committed = await this.replay(opts.idempotency);
        if (committed) return committed;
        throw new AppError('build_exists', `A build with id '${id}' already exists`, { build_id: id });
      }
      const refusal = await this.deps.ancestry?.refused(result.failed);
      if (refusal) throw refusal;
      if (result.conflict) throw contention(id);
      throw new Error(`create of build '${id}' refused by [${[...result.failed]}]`);
    }
    this.recent.set(id, change.build);
    return { ...response, replayed: false, version: change.build.version };
  }

  /**
   * Every item one change writes, by name: the build and its history (the repository's parts),
   * the request's idempotency record, the live item, and any extra parts. A state report (`claim`)
   * does not write the live item: its lease is checked against the build item's lease_id (the
   * build put is conditioned on it), plus a ConditionCheck of the live item only when that cannot
   * decide (leaseCheck); its position copy comes from the stream (live.item.ts). All of the items
   * belong to this build, except the idempotency record, which belongs to this request: nothing is
   * shared with another build, so no two builds' changes can conflict (docs/DATA-MODEL.md).
   */
  changeTransaction(
    change: Change,
    before: Build | null,
    opts: MutationOptions,
    response: RecordedResult,
    claim?: LeaseClaim,
    extraParts: Record<string, TransactItem | undefined> = {},
  ): Transaction {
    const tx = this.deps.builds
      .changeTransaction(change, before)
      .add(IDEMPOTENCY_PART, this.remember(opts.idempotency, response))
      .add(
        LIVE_PART,
        !claim || !before
          ? liveUpdate(this.tableName, change.build)
          : before.lease_id && change.build.lease_id === null
            ? endExpiredLease(this.tableName, before.id, before.lease_id, this.clock().getTime())
            : leaseCheck(
                this.tableName,
                before,
                claim,
                this.clock().getTime(),
                this.quietCutoff(change, before),
              ),
      );
    for (const [name, item] of Object.entries(extraParts)) tx.add(name, item);
    return tx;
  }

  /**
   * A takeover of a lease-less attempt (lost by silence): the live item must show no lease-less
   * heartbeat after this cutoff, so a heartbeat that lands after the rule's read refuses it.
   */
  private quietCutoff(change: Change, before: Build): number | undefined {
    if (!change.earlier?.length || before.attempt_lease_id) return undefined;
    return Date.parse(change.build.updated_at) - this.heartbeatTimeoutSeconds * 1000;
  }

  private get heartbeatTimeoutSeconds(): number {
    return this.deps.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_S;
  }

  /**
   * A lease call changed the build item's lease_id (no new version): the cached copy follows, so
   * the next report commits on the first try. Only a hint: the build put is conditioned on it.
   */
  noteLease(id: string, leaseId: string | null, hourlyCost?: string | null): void {
    const cached = this.recent.get(id);
    // A take writes lease_hourly_cost with lease_id (a release leaves it): the cache keeps both as written.
    if (cached)
      this.recent.set(id, {
        ...cached,
        lease_id: leaseId,
        ...(hourlyCost !== undefined ? { lease_hourly_cost: hourlyCost } : {}),
      });
  }

  /** The build; a parent also shows `children`, its roll-up (one GetItem of counters, never the children). */
  async get(id: string): Promise<Outcome> {
    const [build, rollup] = await Promise.all([this.load(id), this.deps.builds.rollup(id)]);
    return {
      body: {
        ...buildView(build, await this.deps.catalogs.forProject(build.project_id)),
        ...(rollup ? { children: rollupView(rollup) } : {}),
      },
      replayed: false,
      version: build.version,
    };
  }

  /**
   * POST /builds/{id}/fork: the children, each created by its own transaction (a build, its
   * `forked` history entry and its live item: three items, so 100 children cannot share one
   * transaction). Everything that can refuse the fork is checked before the first write (the
   * parent reached `at_state`, the references, the ids). Child ids are derived from the fork id,
   * and the fork id from the Idempotency-Key, so a retry of an interrupted fork with the same key
   * recognises the children already made (same fork and request fingerprint) and creates only the
   * rest; the idempotency record is written once every child exists.
   */
  async fork(
    parentId: string,
    input: ForkInput,
    actor: Principal,
    opts: MutationOptions = {},
  ): Promise<Outcome> {
    const replay = await this.replay(opts.idempotency);
    if (replay) return replay;
    const parent = await this.load(parentId);
    if (!parent.completed_states.includes(input.at_state))
      throw new AppError(
        'state_not_reached',
        `Build '${parentId}' has not completed state ${input.at_state}; fork at a state it completed`,
        {
          build_id: parentId,
          at_state: input.at_state,
          completed_states: parent.completed_states,
        },
      );
    const catalog = await this.deps.catalogs.forProject(parent.project_id);
    const forkId = opts.idempotency
      ? `f${digest(`${opts.idempotency.principal}\n${opts.idempotency.key}\n${parentId}`).slice(0, 24)}`
      : `f${this.newId().toLowerCase()}`;
    const fingerprint = opts.idempotency?.fingerprint ?? forkId;
    const ctx = this.context(actor, catalog);
    const rates = new Map<string, PlatformRate | null>();
    for (const { platform_id } of input.children)
      if (!rates.has(platform_id)) rates.set(platform_id, (await this.deps.rates?.(platform_id)) ?? null);
    const changes = input.children.map((child, n) => {
      const change = forkChild(
        parent,
        child.id ?? `${forkId}-${String(n + 1).padStart(3, '0')}`,
        forkId,
        input.at_state,
        child,
        { ...ctx, rate: rates.get(child.platform_id) ?? null },
      );
      change.build.fork_fingerprint = fingerprint;
      return change;
    });
    const checked = new Set<string>();
    for (const { build } of changes) {
      const refs = `${build.platform_id}|${build.image_type_id}|${build.os_version_id}`;
      if (checked.has(refs)) continue;
      checked.add(refs);
      await this.deps.references?.assertActive(build);
    }
    // Children that already exist: this fork's own (an earlier, interrupted try) are kept; anything else refuses the fork.
    const existing = new Map(
      (await this.deps.builds.getMany(changes.map((c) => c.build.id))).map((b) => [b.id, b]),
    );
    const sameFork = (b: Build) => {
      if (b.fork_id !== forkId || b.parent_id !== parentId)
        throw new AppError('build_exists', `A build with id '${b.id}' already exists`, { build_id: b.id });
      if (b.fork_fingerprint !== fingerprint) throw idempotencyMismatch(opts.idempotency?.key ?? forkId);
      return b;
    };
    for (const b of existing.values()) sameFork(b);
    const ancestry = await this.deps.ancestry?.prepare({ parent_id: parentId });
    const children: Build[] = new Array(changes.length);
    let next = 0;
    const worker = async () => {
      while (next < changes.length) {
        const n = next++;
        const change = changes[n]!;
        const had = existing.get(change.build.id);
        if (had) {
          children[n] = had;
          continue;
        }
        const result = await this.commitRetryingConflicts(
          this.changeTransaction(change, null, {}, created({}), undefined, ancestry?.(change.build)),
        );
        if (result.committed) {
          children[n] = change.build;
          this.recent.set(change.build.id, change.build);
        } else if (result.failed.has(BUILD_PART)) {
          // A concurrent copy of this fork made it first (or someone took the id meanwhile).
          const now = await this.deps.builds.get(change.build.id);
          if (!now) throw contention(change.build.id);
          children[n] = sameFork(now);
        } else {
          const refusal = await this.deps.ancestry?.refused(result.failed);
          if (refusal) throw refusal;
          if (result.conflict) throw contention(change.build.id);
          throw new Error(`fork child '${change.build.id}' refused by [${[...result.failed]}]`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FORK_CONCURRENCY, changes.length) }, worker));
    const response = created({
      parent_id: parentId,
      fork_id: forkId,
      at_state: input.at_state,
      parent_version: parent.version,
      children: children.map((b) => buildView(b, catalog)),
    });
    const remembered = this.remember(opts.idempotency, response);
    if (remembered) {
      const result = await this.deps.builds.commit(new Transaction().add(IDEMPOTENCY_PART, remembered));
      if (!result.committed) return this.replayAfterRace(opts.idempotency!);
    }
    return { ...response, replayed: false };
  }

  /** GET /builds/{id}/children: the children of a parent, newest first (the by-parent index). */
  async children(id: string, query: ChildrenQuery): Promise<Outcome> {
    await this.load(id);
    return this.list({ parent_id: id, limit: query.limit, cursor: query.cursor });
  }

  async list(query: ListBuildsQuery): Promise<Outcome> {
    const filters = {
      parent_id: query.parent_id,
      project_id: query.project_id,
      platform_id: query.platform_id,
      status: query.status,
    };
    const start = query.cursor ? decodeCursor(query.cursor, filters, listStartKeyShape(filters)) : undefined;
    const page = await this.deps.builds.list(filters, query.limit, start);
    const catalogs = new Map<string, StateCatalog>();
    for (const projectId of new Set(page.items.map((b) => b.project_id)))
      catalogs.set(projectId, await this.deps.catalogs.forProject(projectId));
    return {
      body: {
        items: page.items.map((b) => buildView(b, catalogs.get(b.project_id)!)),
        next_cursor: page.next ? encodeCursor(page.next, filters) : null,
      },
      replayed: false,
    };
  }

  async history(id: string, query: HistoryQuery): Promise<Outcome> {
    const build = await this.load(id);
    const catalog = await this.deps.catalogs.forProject(build.project_id);
    const start = query.cursor
      ? decodeCursor(query.cursor, { history: id }, historyStartKeyShape(id))
      : undefined;
    const page = await this.deps.builds.history(id, query.limit, start);
    return {
      body: {
        build_id: id,
        items: page.items.map((h) => historyView(h, catalog)),
        next_cursor: page.next ? encodeCursor(page.next, { history: id }) : null,
      },
      replayed: false,
    };
  }

  /** What to do next, with the bundle a resuming worker downloads (`inputArtifacts`, from the artifacts side). */
  async resume(
    id: string,
    inputArtifacts: (build: Build) => Promise<unknown[]> = async () => [],
  ): Promise<ResumeAdvice & { input_artifacts: unknown[] }> {
    const build = await this.load(id);
    const catalog = await this.deps.catalogs.forProject(build.project_id);
    const live = build.state_status === 'in_progress' ? await this.deps.liveSigns?.(id) : undefined;
    const lost = lostAttempt(build, {
      nowMs: this.clock().getTime(),
      heartbeatTimeoutSeconds: this.heartbeatTimeoutSeconds,
      live,
    });
    const advice = resumeAdvice(build, catalog, this.deps.defaultMaxAttempts, lost);
    return { ...advice, input_artifacts: await inputArtifacts(build) };
  }

  /** A state report; `extra` adds parts to its transaction (committed with it, or not at all). */
  report(
    id: string,
    input: StateReportInput,
    actor: Principal,
    opts: MutationOptions = {},
    extra?: ExtraParts,
  ): Promise<Outcome> {
    return this.mutate(
      id,
      actor,
      opts,
      'created',
      async (build, ctx) => {
        // A second in_progress of the running attempt may be a takeover: read its worker's signs of life.
        const takeover =
          input.status === 'in_progress' &&
          build.state_status === 'in_progress' &&
          input.state_code === build.current_state;
        const live = takeover ? await this.deps.liveSigns?.(id) : undefined;
        return applyReport(build, input, { ...ctx, leaseId: opts.leaseId ?? null, live });
      },
      { leaseId: opts.leaseId ?? null },
      extra,
    );
  }

  /** Records that a verified artifact is unverified again; `extra` carries the artifact's own update. */
  artifactUnverified(
    id: string,
    input: ArtifactUnverifiedInput,
    actor: Principal,
    extra: ExtraParts,
  ): Promise<Outcome> {
    return this.mutate(
      id,
      actor,
      {},
      undefined,
      (build, ctx) => applyArtifactUnverified(build, input, ctx),
      undefined,
      extra,
    );
  }

  cancel(id: string, input: CancelInput, actor: Principal, opts: MutationOptions = {}): Promise<Outcome> {
    return this.mutate(id, actor, opts, undefined, (build, ctx) => applyCancel(build, input, ctx));
  }

  unblock(id: string, input: UnblockInput, actor: Principal, opts: MutationOptions = {}): Promise<Outcome> {
    return this.mutate(id, actor, opts, undefined, (build, ctx) => applyUnblock(build, input, ctx));
  }

  /** Read, validate with a pure rule, write conditioned on the version read; on a lost race, again. */
  private async mutate(
    id: string,
    actor: Principal,
    opts: MutationOptions,
    outcome: OutcomeKind | undefined,
    rule: (build: Build, ctx: RuleContext) => Change | Promise<Change>,
    claim?: LeaseClaim,
    extra?: ExtraParts,
  ): Promise<Outcome> {
    let trustCache = true;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_ON_RACE; attempt++) {
      // Checked on every pass: a concurrent request with the same key may have committed since.
      const replay = await this.replay(opts.idempotency);
      if (replay) return replay;
      // Optimistic: a cached build that is still current commits exactly as a fresh read would,
      // because the write is conditioned on its version; a stale one fails that condition.
      const cached = trustCache ? this.recent.get(id) : undefined;
      const build = cached ?? (await this.load(id));
      const catalog = await this.deps.catalogs.forProject(build.project_id);
      let change: Change;
      try {
        if (opts.ifMatch !== undefined && opts.ifMatch !== build.version)
          throw preconditionFailed(build, opts.ifMatch);
        const rate = (await this.deps.rates?.(build.platform_id)) ?? null;
        change = await rule(build, { ...this.context(actor, catalog), rate });
      } catch (error) {
        if (cached) {
          // Never refuse on the word of the cache: confirm against a fresh read.
          trustCache = false;
          attempt--;
          continue;
        }
        // A copy of this request may have committed between our key check and our read.
        const committed = await this.replay(opts.idempotency);
        if (committed) return committed;
        throw error;
      }
      // Every build mutation answers with the build as it now is; its version is the new history item's seq.
      const prepared = extra ? await extra.prepare(change, build, catalog) : undefined;
      const tookOver = change.refusal ? undefined : change.earlier?.[0]?.metadata?.lost_attempt;
      const response: RecordedResult = {
        ...(outcome ? { outcome } : {}),
        body: {
          ...buildView(change.build, catalog),
          ...prepared?.body,
          ...(tookOver ? { took_over: lostAttemptView(tookOver as LostAttempt) } : {}),
        },
      };
      // A refused request whose change still commits (a takeover at the lost-attempt limit) keeps
      // no idempotency record: a retry with the key meets the change's result (a blocked build).
      const txOpts = change.refusal ? { ...opts, idempotency: undefined } : opts;
      const result = await this.deps.builds.commit(
        this.changeTransaction(change, build, txOpts, response, claim, prepared?.parts),
      );
      if (result.committed) {
        this.recent.set(id, change.build);
        if (change.refusal) throw change.refusal;
        return { ...response, replayed: false, version: change.build.version };
      }
      if (result.failed.has(IDEMPOTENCY_PART)) return this.replayAfterRace(opts.idempotency!);
      if (result.failed.has(BUILD_PART)) {
        // A stale version wins over every other refusal: re-read and decide again.
        this.recent.delete(id);
        trustCache = false;
        if (cached) {
          attempt--;
          continue;
        }
        if (opts.ifMatch !== undefined) {
          // A lease take or release refuses the put too (it changes lease_id, not the version):
          // only a new version is a failed precondition; otherwise decide again.
          const now = await this.load(id);
          if (now.version !== opts.ifMatch)
            throw preconditionFailed(now, opts.ifMatch, 'changed while this request ran');
        }
      } else if (result.failed.has(LIVE_PART)) {
        const cutoff = this.quietCutoff(change, build);
        const heard = (result.old(LIVE_PART) as LiveSigns | undefined)?.unleased_heartbeat_ms;
        if (cutoff !== undefined && heard !== undefined && heard > cutoff)
          throw new AppError(
            'already_in_progress',
            `State ${build.current_state} already has attempt ${build.attempt} in progress; its worker sent a heartbeat at ${new Date(heard).toISOString()}`,
            { build_id: id, state_code: build.current_state, attempt: build.attempt },
          );
        throw leaseRefused(id, claim, result.old(LIVE_PART), this.clock());
      } else if (result.failed.size > 0) {
        for (const name of result.failed) {
          const error = await extra?.refused?.(name, result.old(name));
          if (error) throw error;
        }
        // A history item at this seq while the version matched would break the seq invariant: a bug.
        if (!extra) throw new Error(`change of build '${id}' refused by [${[...result.failed]}]`);
      }
      await jitter(attempt);
    }
    throw contention(id);
  }

  private async load(id: string): Promise<Build> {
    const build = await this.deps.builds.get(id);
    if (!build) throw notFound('build', id);
    this.recent.set(id, build);
    return build;
  }

  /**
   * A new build's transaction, sent again after a TransactionConflict that refused no condition:
   * creates on one base or fork parent check the same ancestor markers at once, which real
   * DynamoDB may cancel as conflicting (DynamoDB Local never does).
   */
  private commitRetryingConflicts(tx: Transaction) {
    return retry(() => this.deps.builds.commit(tx), {
      ...RACE_BACKOFF,
      retryValue: (result) => !result.committed && result.conflict && result.failed.size === 0,
    });
  }

  private context(actor: Principal, catalog: StateCatalog): RuleContext {
    return {
      catalog,
      defaultMaxAttempts: this.deps.defaultMaxAttempts,
      now: this.clock().toISOString(),
      actor: actor.id,
      heartbeatTimeoutSeconds: this.heartbeatTimeoutSeconds,
    };
  }

  private nowEpoch = () => Math.floor(this.clock().getTime() / 1000);

  private remember(req: IdempotencyRequest | undefined, response: RecordedResult) {
    return req ? this.deps.idempotency.transactPut(req, response, this.nowEpoch()) : undefined;
  }

  private async replay(req: IdempotencyRequest | undefined): Promise<Outcome | null> {
    if (!req) return null;
    const stored = await this.deps.idempotency.find(req, this.nowEpoch());
    if (!stored) return null;
    if (stored.fingerprint !== req.fingerprint) throw idempotencyMismatch(req.key);
    // A replayed build change answers with the ETag its first answer had (the build's version then).
    const body = stored.result.body as { version?: unknown } | null;
    const version = typeof body?.version === 'number' ? body.version : undefined;
    return { ...stored.result, replayed: true, ...(version !== undefined ? { version } : {}) };
  }

  /** Our transaction lost to a concurrent request with the same key: answer what that one committed. */
  private async replayAfterRace(req: IdempotencyRequest): Promise<Outcome> {
    const replay = await this.replay(req);
    if (!replay)
      throw new AppError('conflict', 'A request with this Idempotency-Key is being processed; retry', {});
    return replay;
  }
}

/** The report's lease claim did not hold: 409 lease_held (someone else's live lease) or lease_lost. */
function leaseRefused(
  id: string,
  claim: LeaseClaim | undefined,
  live: Record<string, unknown> | undefined,
  now: Date,
): AppError {
  const holder = live ? leaseHolder(live as unknown as LiveItem, now) : null;
  if (claim?.leaseId) {
    return new AppError(
      'lease_lost',
      `Lease '${claim.leaseId}' on build '${id}' is no longer held${holder ? `; ${holder.worker_id} holds lease fence ${holder.fence}` : ''}: stop working on this build`,
      { build_id: id, lease_id: claim.leaseId, holder },
    );
  }
  return new AppError(
    'lease_held',
    `Build '${id}' is leased by worker '${holder?.worker_id}' until ${holder?.expires_at}; report with its X-Lease-Id`,
    { build_id: id, holder },
  );
}

function preconditionFailed(build: Build, expected: number, why = 'does not match'): AppError {
  return new AppError(
    'precondition_failed',
    `If-Match version ${expected} ${why}: build is at version ${build.version}`,
    {
      build_id: build.id,
      expected_version: expected,
      current_version: build.version,
    },
  );
}

/** The lost attempt as the API shows it (the history entry's metadata also carries the counts). */
const lostAttemptView = (lost: LostAttempt): LostAttempt => ({
  state_code: lost.state_code,
  attempt: lost.attempt,
  worker_id: lost.worker_id,
  silent_since: lost.silent_since,
  lease_expired_at: lost.lease_expired_at,
  by: lost.by,
});

const contention = (id: string) =>
  new AppError('conflict', `Build '${id}' is changing too fast to apply this report; retry`, {
    build_id: id,
  });

/** Children of one fork created at once (each its own transaction). */
const FORK_CONCURRENCY = 8;

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/** Between attempts that lost a race: full jitter under min(5 ms · 2^attempt, 200 ms) (lib/retry.ts). */
const RACE_BACKOFF = { attempts: MAX_ATTEMPTS_ON_RACE, baseMs: 5, capMs: 200 };
const jitter = (attempt: number) => sleep(backoffMs(attempt, RACE_BACKOFF));

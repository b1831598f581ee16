/**
 * Revocation and restore. A revocation marks the build and every descendant (fork children and
 * builds on it as base, transitively), each by its own transaction: a new build version with a
 * `build_revoked` history entry, its marker, and its Build Revoked event. The build itself is
 * marked first, so from that moment nothing new can be created under it (a new build's create
 * checks every ancestor's marker in its own transaction) and every read that serves a build
 * (GET /channels/{name}) sees the whole subtree as revoked through that ancestor; then the
 * descendants are marked, page by page of one consistent Query.
 *
 * Like the fork, it is resumable: each step recognises what is already done, so repeating the
 * request (with the same Idempotency-Key, or without one: revoking a revoked build finishes its
 * cascade) completes an interrupted revocation and marks nothing twice; the idempotency record is
 * written once every descendant is marked. A restore undoes one revocation: descendants first,
 * the build last, so an interrupted restore still shows the subtree revoked until it is repeated.
 */
import { createHash } from 'node:crypto';
import { ulid } from 'ulid';
import type { Principal } from '../auth/principal';
import type { Build, Change } from '../builds/build.model';
import { BUILD_PART, type BuildRepository } from '../builds/build.repository';
import { Transaction } from '../db/transaction';
import { AppError, notFound } from '../errors';
import { DETAIL_TYPES } from '../events/events';
import {
  type IdempotencyRequest,
  idempotencyMismatch,
  type RecordedResult,
} from '../idempotency/idempotency';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { AGAIN, retry } from '../retry';
import type { MutationOptions, Outcome } from '../use-case';
import type { LineageRepository, Marker, Revocation } from './lineage.repository';
import type { RestoreInput, RevokeInput } from './lineage.schema';
import {
  firstRevoked,
  type LineageContext,
  restoredChange,
  revokedChange,
  revokedError,
} from './revocation.rules';

export interface RevocationServiceDeps {
  builds: BuildRepository;
  lineage: LineageRepository;
  idempotency: IdempotencyRepository;
  clock?: () => Date;
  newId?: () => string;
}

/** Builds marked at once (each its own transaction), as the fork creates its children. */
const CONCURRENCY = 8;
/** Descendants read per page of the walk. */
const PAGE = 500;
const MAX_ATTEMPTS_ON_RACE = 10;
const REVOCATION_PART = 'revocation';
const EVENT_PART = 'event';

type Step = 'done' | 'skipped';

export class RevocationService {
  private readonly clock: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: RevocationServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.newId = deps.newId ?? ulid;
  }

  async revoke(
    id: string,
    input: RevokeInput,
    actor: Principal,
    opts: MutationOptions = {},
  ): Promise<Outcome> {
    const replay = await this.replay(opts.idempotency);
    if (replay) return replay;
    await this.load(id);
    let marker = await this.deps.lineage.marker(id);
    let newly = 0;
    let already = 0;
    if (!marker?.revoked_at) {
      const revocation: Revocation = {
        revocation_id: opts.idempotency
          ? `r${digest(`${opts.idempotency.principal}\n${opts.idempotency.key}\n${id}`).slice(0, 24)}`
          : `r${this.newId().toLowerCase()}`,
        root_id: id,
        reason: input.reason,
        revoked_at: this.clock().toISOString(),
        revoked_by: actor.id,
      };
      if ((await this.mark(id, revocation, actor)) === 'done') newly++;
      else already++;
      marker = await this.deps.lineage.marker(id);
    } else already++;
    const revocation = asRevocation(marker);
    let descendants = 0;
    await this.eachDescendant(id, async (descendantId, marked) => {
      descendants++;
      if (!marked?.revoked_at && (await this.mark(descendantId, revocation, actor)) === 'done') newly++;
      else already++;
    });
    const response = {
      body: {
        build_id: id,
        revocation_id: revocation.revocation_id,
        root_id: revocation.root_id,
        reason: revocation.reason,
        revoked_at: revocation.revoked_at,
        revoked_by: revocation.revoked_by,
        descendants,
        newly_revoked: newly,
        already_revoked: already,
      },
    };
    return this.finish(response, opts.idempotency);
  }

  async restore(
    id: string,
    input: RestoreInput,
    actor: Principal,
    opts: MutationOptions = {},
  ): Promise<Outcome> {
    const replay = await this.replay(opts.idempotency);
    if (replay) return replay;
    await this.load(id);
    // A build under a revoked ancestor stays revoked whatever its own marker says: restore that one.
    const ancestors = (await this.deps.lineage.ancestry(id))?.ancestors ?? [];
    const markers = await this.deps.lineage.markers(ancestors);
    const revokedAncestor = firstRevoked(ancestors, markers);
    if (revokedAncestor) {
      const error = revokedError(id, revokedAncestor, markers.get(revokedAncestor));
      throw new AppError('revoked', `${error.message}; restore '${revokedAncestor}' instead`, error.details);
    }
    const marker = await this.deps.lineage.marker(id);
    let restored = 0;
    let still = 0;
    if (marker?.revoked_at && marker.revocation_id) {
      const revocationId = marker.revocation_id;
      await this.eachDescendant(id, async (descendantId, marked) => {
        const ours = marked?.revoked_at && marked.revocation_id === revocationId;
        const outcome = ours
          ? await this.unmark(descendantId, revocationId, input.reason ?? null, actor, id)
          : 'skipped';
        if (outcome === 'done') restored++;
        else if (!ours ? marked?.revoked_at : (await this.deps.lineage.marker(descendantId))?.revoked_at)
          still++;
      });
      if ((await this.unmark(id, revocationId, input.reason ?? null, actor, id)) === 'done') restored++;
    }
    return this.finish(
      {
        body: {
          build_id: id,
          revocation_id: marker?.revoked_at ? (marker.revocation_id ?? null) : null,
          restored,
          still_revoked: still,
        },
      },
      opts.idempotency,
    );
  }

  /**
   * Every descendant of `id`, page by page of one consistent Query, `CONCURRENCY` at a time, with
   * its marker as the page's BatchGetItem read it (a hint: each step reads it again before writing),
   * so a repeated request passes over what is done at one read per 100 builds.
   */
  private async eachDescendant(
    id: string,
    visit: (descendantId: string, marker: Marker | undefined) => Promise<void>,
  ): Promise<void> {
    let start: Record<string, string | number> | undefined;
    do {
      const page = await this.deps.lineage.descendants(id, PAGE, start);
      const markers = await this.deps.lineage.markers(page.items.map((d) => d.build_id));
      let next = 0;
      const worker = async () => {
        while (next < page.items.length) {
          const descendantId = page.items[next++]!.build_id;
          await visit(descendantId, markers.get(descendantId));
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, page.items.length) }, worker));
      start = page.next;
    } while (start);
  }

  /** Marks one build with `revocation` unless something already revokes it; `skipped` then. */
  private async mark(id: string, revocation: Revocation, actor: Principal): Promise<Step> {
    return this.step(id, async (build) => {
      if ((await this.deps.lineage.marker(id))?.revoked_at) return null;
      const change = revokedChange(build, revocation, this.context(actor));
      return {
        change,
        tx: this.deps.builds
          .changeTransaction(change, build)
          .add(REVOCATION_PART, this.deps.lineage.revokePart(id, revocation))
          .add(
            EVENT_PART,
            this.eventPart(
              change,
              DETAIL_TYPES.revoked,
              revocation.revocation_id,
              revocation.root_id,
              revocation.reason,
              'revoked',
            ),
          ),
      };
    });
  }

  /**
   * Undoes `revocationId` on one build. If another of its ancestors (outside the subtree being
   * restored) is revoked, the build stays revoked, now by that ancestor's revocation, so
   * restoring that one later restores it too.
   */
  private async unmark(
    id: string,
    revocationId: string,
    reason: string | null,
    actor: Principal,
    restoredRoot: string,
  ): Promise<Step> {
    return this.step(id, async (build) => {
      const marker = await this.deps.lineage.marker(id);
      if (!marker?.revoked_at || marker.revocation_id !== revocationId) return null;
      const ctx = this.context(actor);
      const ancestors = id === restoredRoot ? [] : ((await this.deps.lineage.ancestry(id))?.ancestors ?? []);
      const markers = await this.deps.lineage.markers(ancestors.filter((a) => a !== restoredRoot));
      const other = [...markers.values()].find((m) => m.revoked_at && m.revocation_id !== revocationId);
      if (other) {
        const revocation = asRevocation(other);
        const change = revokedChange(build, revocation, ctx);
        return {
          change,
          tx: this.deps.builds
            .changeTransaction(change, build)
            .add(REVOCATION_PART, this.deps.lineage.revokePart(id, revocation, revocationId))
            .add(
              EVENT_PART,
              this.eventPart(
                change,
                DETAIL_TYPES.revoked,
                revocation.revocation_id,
                revocation.root_id,
                revocation.reason,
                'revoked',
              ),
            ),
          outcome: 'skipped' as const,
        };
      }
      const change = restoredChange(build, revocationId, reason, ctx);
      return {
        change,
        tx: this.deps.builds
          .changeTransaction(change, build)
          .add(REVOCATION_PART, this.deps.lineage.restorePart(id, revocationId, ctx.now, actor.id))
          .add(
            EVENT_PART,
            this.eventPart(
              change,
              DETAIL_TYPES.restored,
              revocationId,
              marker.root_id ?? id,
              reason,
              'restored',
            ),
          ),
      };
    });
  }

  /**
   * One build's change, read and committed conditioned on the version read; a lost race (a state
   * report meanwhile) is read again. `plan` returns null when there is nothing to do.
   */
  private async step(
    id: string,
    plan: (build: Build) => Promise<{ change: Change; tx: Transaction; outcome?: Step } | null>,
  ): Promise<Step> {
    const step = await retry<Step | typeof AGAIN>(
      async () => {
        const build = await this.deps.builds.get(id);
        if (!build) return 'skipped';
        const planned = await plan(build);
        if (!planned) return 'skipped';
        const result = await this.deps.builds.commit(planned.tx);
        if (result.committed) return planned.outcome ?? 'done';
        // The marker changed (a concurrent revoke or restore): decide again from a fresh read.
        if (!(result.failed.has(BUILD_PART) || result.failed.has(REVOCATION_PART) || result.conflict))
          throw new Error(`lineage change of build '${id}' refused by [${[...result.failed]}]`);
        return AGAIN;
      },
      { attempts: MAX_ATTEMPTS_ON_RACE, baseMs: 5, capMs: 200 },
    );
    if (step !== AGAIN) return step;
    throw new AppError('conflict', `Build '${id}' is changing too fast to revoke or restore; retry`, {
      build_id: id,
    });
  }

  private eventPart(
    change: Change,
    detailType: string,
    revocationId: string,
    rootId: string,
    reason: string | null,
    suffix: string,
  ) {
    const { build, history } = change;
    return this.deps.lineage.lineageEventPart(
      build.id,
      build.version,
      detailType,
      {
        dedup_key: `${build.id}:${build.version}:${suffix}`,
        build_id: build.id,
        version: build.version,
        revocation_id: revocationId,
        root_id: rootId,
        reason,
        actor: history.actor,
        occurred_at: history.recorded_at,
      },
      history.recorded_at,
    );
  }

  private async load(id: string): Promise<Build> {
    const build = await this.deps.builds.get(id);
    if (!build) throw notFound('build', id);
    return build;
  }

  private context(actor: Principal): LineageContext {
    return { now: this.clock().toISOString(), actor: actor.id };
  }

  private nowEpoch = () => Math.floor(this.clock().getTime() / 1000);

  private async finish(response: RecordedResult, req: IdempotencyRequest | undefined): Promise<Outcome> {
    if (req) {
      const result = await this.deps.builds.commit(
        new Transaction().add(
          'idempotency',
          this.deps.idempotency.transactPut(req, response, this.nowEpoch()),
        ),
      );
      if (!result.committed) {
        const replay = await this.replay(req);
        if (replay) return replay;
      }
    }
    return { ...response, replayed: false };
  }

  private async replay(req: IdempotencyRequest | undefined): Promise<Outcome | null> {
    if (!req) return null;
    const stored = await this.deps.idempotency.find(req, this.nowEpoch());
    if (!stored) return null;
    if (stored.fingerprint !== req.fingerprint) throw idempotencyMismatch(req.key);
    return { ...stored.result, replayed: true };
  }
}

function asRevocation(marker: Marker | null): Revocation {
  if (!marker?.revoked_at || !marker.revocation_id)
    throw new Error(`revocation marker of build '${marker?.build_id}' is not a revocation`);
  return {
    revocation_id: marker.revocation_id,
    root_id: marker.root_id ?? marker.build_id,
    reason: marker.reason ?? '',
    revoked_at: marker.revoked_at,
    revoked_by: marker.revoked_by ?? 'unknown',
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

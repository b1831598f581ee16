/**
 * Conditional writes on a build's live item: take, renew and release a lease, and heartbeats.
 * Expiry is compared with the caller's clock inside each condition; DynamoDB TTL is never relied
 * on. A refused condition comes back with the item as it was (ALL_OLD). Taking and releasing a
 * lease also set the build item's `lease_id` in the same transaction (no new version), which is
 * what a state report checks its lease against; renewals and heartbeats write the live item only.
 * Position fields of the live item are written by build changes and the stream, never here.
 */

import { unmarshall } from '@aws-sdk/util-dynamodb';
import { buildKey } from '../builds/build.keys';
import { type LiveItem, liveKey } from '../builds/live.item';
import { type DocumentClient, GetCommand, UpdateCommand } from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { withoutKeys } from '../db/items';
import { type TransactItem, Transaction } from '../db/transaction';
import { backoffMs, retry, sleep } from '../retry';

/** Part names of a lease call's transaction. */
const LIVE = 'live';
const BUILD_LEASE = 'build';
/** Retries of a take or release that met a concurrent transaction on the same build (TransactionConflict). */
const MAX_CONFLICT_RETRIES = 8;
/** Their waits: full jitter under min(5 ms · 2^retry, 200 ms), the first retry's bound 5 ms (lib/retry.ts). */
const CONFLICT_BACKOFF = { attempts: MAX_CONFLICT_RETRIES + 1, baseMs: 2.5, capMs: 200 };
/** Re-reads of a take that found the fence moved by a concurrent take (each round, one take wins). */
const MAX_FENCE_RACES = 64;

export type WriteResult = { ok: true; live: LiveItem } | { ok: false; live: LiveItem | undefined };

export interface NewLease {
  leaseId: string;
  workerId: string;
  ttlSeconds: number;
  nowMs: number;
  /** The worker's own hourly rate (canonical decimal), kept on the build beside lease_id; null: none. */
  hourlyCost?: string | null;
  /**
   * The lease the build's running attempt reported under (its attempt_lease_id, as read before
   * the take), if any: the previous-lease fields keep that lease's signs of life while later takes
   * (a taker that died before reporting) replace other leases. A stale value only costs precision.
   */
  attemptLeaseId?: string | null;
}

export class LeaseRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  async get(buildId: string): Promise<LiveItem | undefined> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: liveKey(buildId), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? toLive(res.Item) : undefined;
  }

  /**
   * Granted when no lease is live, or when the live one belongs to the same worker (a restart).
   * Every grant is a new lease with the next fence, even for concurrent takes by one worker: the
   * fence is set to one more than the fence read, conditioned on that read, so two takes can never
   * both be granted the same fence, and the answer is built from what this take wrote (a read
   * after it could show another take's lease). A take that lost only the fence race reads again.
   */
  async acquire(buildId: string, lease: NewLease): Promise<WriteResult> {
    let seen = await this.get(buildId);
    for (let races = 0; ; races++) {
      const fence = (seen?.lease_fence ?? 0) + 1;
      const keep = keepsPreviousSigns(seen, lease.attemptLeaseId);
      const values = {
        ':lid': lease.leaseId,
        ':w': lease.workerId,
        ':exp': lease.nowMs + lease.ttlSeconds * 1000,
        ':at': new Date(lease.nowMs).toISOString(),
        ':ttl': lease.ttlSeconds,
        ':ttlms': lease.ttlSeconds * 1000,
        ':now': lease.nowMs,
        ':fence': fence,
        ':bid': buildId,
        ...(seen?.lease_fence === undefined ? {} : { ':seen': seen.lease_fence }),
        ...(keep ? { ':seenlid': seen!.lease_id, ':zero': 0 } : {}),
      };
      const result = await this.withBuildLease(
        buildId,
        lease.leaseId,
        {
          // Operands are read from the item before this update: the previous fields get the
          // replaced lease as it is when the take commits (a renewal since our read included).
          UpdateExpression: `SET ${keep ? `${KEEP_PREVIOUS}, ` : ''}#lid = :lid, #lw = :w, #lexp = :exp, #lat = :at, #lttl = :ttl, #lttlms = :ttlms, #hb = :at, #hbms = :now, #bid = :bid, #fence = :fence`,
          ConditionExpression: `(attribute_not_exists(#lid) OR #lexp <= :now OR #lw = :w) AND ${
            seen?.lease_fence === undefined ? 'attribute_not_exists(#fence)' : '#fence = :seen'
          }${keep ? ' AND #lid = :seenlid' : ''}`,
          ExpressionAttributeNames: {
            ...LEASE_NAMES,
            ...PREVIOUS_NAMES,
            '#lat': 'lease_acquired_at',
            '#lttl': 'lease_ttl_s',
            '#lttlms': 'lease_ttl_ms',
            '#fence': 'lease_fence',
            '#bid': 'build_id',
          },
          ExpressionAttributeValues: values,
        },
        false,
        lease.hourlyCost ?? null,
      );
      if (result.ok) {
        const granted: LiveItem = {
          ...(seen ?? ({} as LiveItem)),
          build_id: buildId,
          lease_id: lease.leaseId,
          lease_worker_id: lease.workerId,
          lease_expires_ms: values[':exp'],
          lease_acquired_at: values[':at'],
          lease_ttl_s: lease.ttlSeconds,
          lease_ttl_ms: values[':ttlms'],
          last_heartbeat_at: values[':at'],
          last_heartbeat_ms: lease.nowMs,
          lease_fence: fence,
          ...(keep ? previousSigns(seen!, lease.nowMs) : {}),
        };
        return { ok: true, live: granted };
      }
      const now = result.live;
      const free =
        !now?.lease_id ||
        (now.lease_expires_ms ?? 0) <= lease.nowMs ||
        now.lease_worker_id === lease.workerId;
      // Refused by the holder, or no build: the caller's answer. Refused by the fence alone: again.
      if (!free || !now || races >= MAX_FENCE_RACES) return result;
      seen = now;
      await sleep(backoffMs(races + 1, { baseMs: 1, capMs: 50 }));
    }
  }

  /**
   * Extends the named lease by `ttlSeconds`, or by its own TTL (one write, no read): it is the
   * holder's heartbeat. Refused once another lease replaced it. Never goes back in time: a renewal
   * that arrives after a later one (or a later heartbeat) already landed writes nothing, so the
   * expiry and last heartbeat stay at the later values, and it still succeeds: the lease is held.
   */
  async renew(
    buildId: string,
    leaseId: string,
    ttlSeconds: number | undefined,
    nowMs: number,
  ): Promise<WriteResult> {
    const result = await this.renewOnce(buildId, leaseId, ttlSeconds, nowMs);
    if (!result.ok && result.live?.lease_id === leaseId && (result.live.last_heartbeat_ms ?? 0) > nowMs)
      return { ok: true, live: result.live };
    return result;
  }

  private renewOnce(
    buildId: string,
    leaseId: string,
    ttlSeconds: number | undefined,
    nowMs: number,
  ): Promise<WriteResult> {
    const values: Record<string, unknown> = {
      ':lid': leaseId,
      ':at': new Date(nowMs).toISOString(),
      ':now': nowMs,
    };
    let update = 'SET #hb = :at, #hbms = :now, ';
    if (ttlSeconds === undefined) update += '#lexp = :now + #lttlms';
    else {
      update += '#lexp = :exp, #lttl = :ttl, #lttlms = :ttlms';
      Object.assign(values, {
        ':exp': nowMs + ttlSeconds * 1000,
        ':ttl': ttlSeconds,
        ':ttlms': ttlSeconds * 1000,
      });
    }
    return this.update(buildId, {
      UpdateExpression: update,
      ConditionExpression: `#lid = :lid AND ${NOT_OLDER}`,
      ExpressionAttributeNames: { ...LEASE_NAMES, '#lttl': 'lease_ttl_s', '#lttlms': 'lease_ttl_ms' },
      ExpressionAttributeValues: values,
    });
  }

  /** Ends the named lease; the fence stays, so the next lease still gets a higher one. */
  release(buildId: string, leaseId: string): Promise<WriteResult> {
    return this.withBuildLease(buildId, null, {
      UpdateExpression: 'REMOVE #lid, #lw, #lexp, #lat, #lttl, #lttlms',
      ConditionExpression: '#lid = :lid',
      ExpressionAttributeNames: {
        '#lid': 'lease_id',
        '#lw': 'lease_worker_id',
        '#lexp': 'lease_expires_ms',
        '#lat': 'lease_acquired_at',
        '#lttl': 'lease_ttl_s',
        '#lttlms': 'lease_ttl_ms',
      },
      ExpressionAttributeValues: { ':lid': leaseId },
    });
  }

  /**
   * Records a heartbeat without a lease: one conditional update of an existing live item, refused
   * while another worker's lease is live. `mustExist: false` is for builds older than live items.
   */
  async heartbeat(buildId: string, workerId: string, nowMs: number, mustExist = true): Promise<WriteResult> {
    const result = await this.heartbeatOnce(buildId, workerId, nowMs, mustExist);
    // A later heartbeat (or renewal) landed first: nothing to write, and nothing refused.
    const live = result.live;
    if (!result.ok && live && (live.last_heartbeat_ms ?? 0) > nowMs) {
      const free =
        !live.lease_id || (live.lease_expires_ms ?? 0) <= nowMs || live.lease_worker_id === workerId;
      if (free) return { ok: true, live };
    }
    return result;
  }

  private heartbeatOnce(
    buildId: string,
    workerId: string,
    nowMs: number,
    mustExist: boolean,
  ): Promise<WriteResult> {
    const holderFree = `(attribute_not_exists(#lid) OR #lexp <= :now OR #lw = :w) AND ${NOT_OLDER}`;
    return this.update(buildId, {
      UpdateExpression: 'SET #hb = :at, #hbms = :now, #hw = :w, #bid = :bid, #uhb = :now',
      ConditionExpression: mustExist ? `attribute_exists(pk) AND ${holderFree}` : holderFree,
      ExpressionAttributeNames: {
        ...LEASE_NAMES,
        '#hw': 'heartbeat_worker_id',
        '#bid': 'build_id',
        '#uhb': 'unleased_heartbeat_ms',
      },
      ExpressionAttributeValues: {
        ':at': new Date(nowMs).toISOString(),
        ':now': nowMs,
        ':w': workerId,
        ':bid': buildId,
      },
    });
  }

  /**
   * A live item update and the build item's `lease_id` := `leaseId`, as one transaction; then
   * (`readBack`) the live item as it now is (a transaction returns no values). The build part only asks that the
   * build exists: lease_id follows the live item's lease, which the live part's condition decides.
   */
  private async withBuildLease(
    buildId: string,
    leaseId: string | null,
    input: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
    readBack = true,
    /** For a take: the build's `lease_hourly_cost` (the taker's rate, or null), written with lease_id. */
    hourlyCost?: string | null,
  ): Promise<WriteResult> {
    const live: TransactItem = {
      Update: {
        TableName: this.tableName,
        Key: liveKey(buildId),
        ...input,
        UpdateExpression: input.UpdateExpression!,
        ExpressionAttributeNames: usedNames(input),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
    const build: TransactItem = {
      Update: {
        TableName: this.tableName,
        Key: buildKey(buildId),
        ConditionExpression: 'attribute_exists(pk)',
        ...(hourlyCost === undefined
          ? {
              UpdateExpression: 'SET #leaseid = :leaseid',
              ExpressionAttributeNames: { '#leaseid': 'lease_id' },
              ExpressionAttributeValues: { ':leaseid': leaseId },
            }
          : {
              UpdateExpression: 'SET #leaseid = :leaseid, #lhc = :lhc',
              ExpressionAttributeNames: { '#leaseid': 'lease_id', '#lhc': 'lease_hourly_cost' },
              ExpressionAttributeValues: { ':leaseid': leaseId, ':lhc': hourlyCost },
            }),
      },
    };
    // A TransactionConflict that refused neither part (another transaction touched an item): send again.
    const result = await retry(
      () => new Transaction().add(LIVE, live).add(BUILD_LEASE, build).send(this.db),
      {
        ...CONFLICT_BACKOFF,
        retryValue: (r) => !r.committed && !r.failed.has(LIVE) && !r.failed.has(BUILD_LEASE) && r.conflict,
      },
    );
    if (result.committed) {
      // Without readBack the caller builds the item as written itself (acquire).
      if (!readBack) return { ok: true, live: {} as LiveItem };
      const now = await this.get(buildId);
      return now ? { ok: true, live: now } : { ok: false, live: undefined };
    }
    if (result.failed.has(LIVE)) {
      const old = result.old(LIVE);
      return { ok: false, live: old ? toLive(old) : undefined };
    }
    // No build item: refused as if there were no live item either (the service answers 404).
    if (result.failed.has(BUILD_LEASE)) return { ok: false, live: undefined };
    throw new Error(`lease transaction on build '${buildId}' refused by [${[...result.failed]}]`);
  }

  private async update(
    buildId: string,
    input: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<WriteResult> {
    const names = usedNames(input);
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: liveKey(buildId),
          ...input,
          ExpressionAttributeNames: names,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, live: toLive(res.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) return translateStoreError(error);
      const old = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
      return { ok: false, live: old ? toLive(unmarshall(old)) : undefined };
    }
  }
}

/**
 * A take keeps the signs of life of the lease it replaces (holder, expiry, last renewal or
 * heartbeat, and when it was replaced) in the live item's `prev_lease_*` fields: the takeover
 * report that follows records the lost attempt from them (lib/builds/lost-attempt.ts), since the
 * live lease is then the taker's own. They are kept unless they already hold the running
 * attempt's lease and the replaced one is another (a taker that died before it reported).
 */
function keepsPreviousSigns(seen: LiveItem | undefined, attemptLeaseId: string | null | undefined): boolean {
  if (!seen?.lease_id) return false;
  return !(attemptLeaseId && seen.prev_lease_id === attemptLeaseId && seen.lease_id !== attemptLeaseId);
}

const KEEP_PREVIOUS =
  '#plid = #lid, #plw = #lw, #plexp = #lexp, #plhb = if_not_exists(#hbms, :zero), #plend = :now';

const PREVIOUS_NAMES = {
  '#plid': 'prev_lease_id',
  '#plw': 'prev_lease_worker_id',
  '#plexp': 'prev_lease_expires_ms',
  '#plhb': 'prev_lease_heartbeat_ms',
  '#plend': 'prev_lease_ended_ms',
};

/** The previous-lease fields a take writes, as the answer built without a read shows them. */
function previousSigns(seen: LiveItem, nowMs: number): Partial<LiveItem> {
  return {
    prev_lease_id: seen.lease_id,
    prev_lease_worker_id: seen.lease_worker_id,
    prev_lease_expires_ms: seen.lease_expires_ms,
    prev_lease_heartbeat_ms: seen.last_heartbeat_ms ?? 0,
    prev_lease_ended_ms: nowMs,
  };
}

/** Heartbeats and renewals only move forward in time (the caller's clock), whatever order they land in. */
const NOT_OLDER = '(attribute_not_exists(#hbms) OR #hbms <= :now)';

const LEASE_NAMES = {
  '#lid': 'lease_id',
  '#lw': 'lease_worker_id',
  '#lexp': 'lease_expires_ms',
  '#hb': 'last_heartbeat_at',
  '#hbms': 'last_heartbeat_ms',
};

const toLive = (item: Record<string, unknown>) => withoutKeys<LiveItem>(item);

/** Expression names not used by an expression are an error in DynamoDB: keep only those in use. */
function usedNames(input: {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
}): Record<string, string> {
  const text = `${input.UpdateExpression} ${input.ConditionExpression ?? ''}`;
  return Object.fromEntries(
    Object.entries(input.ExpressionAttributeNames ?? {}).filter(([k]) => new RegExp(`${k}\\b`).test(text)),
  );
}

/**
 * A build's live item (`BUILD#<id>` / `LIVE`): the small, often-written companion of the build item.
 * It holds the worker lease, the last heartbeat and a copy of where the build is, so heartbeats and
 * lease renewals never touch (or conflict with) the build item and its version, and so the active
 * index (by-active, sparse and sharded) lists running builds without reading build items.
 *
 * Who writes what:
 *   - lease calls and heartbeats: the lease and heartbeat attributes (lib/leases/lease.repository.ts);
 *     taking and releasing a lease also set the build item's `lease_id` in the same transaction;
 *     a take that replaces a lease keeps that lease's signs of life (`prev_lease_*`);
 *   - create, fork, cancel, unblock, artifact unverify: the position copy, in their transaction;
 *   - state reports: nothing. Their position copy (and `last_report_*`) is written from the
 *     table's stream by `liveProjection`, so it is as fresh as the stream (about a second).
 *     A report's lease is checked against the build item's `lease_id`; only when that cannot
 *     decide does the report add `leaseCheck` (a ConditionCheck of this item) to its transaction.
 * It is the build's item (its key, its position copy, its part of every build change), so it lives
 * in lib/builds; lib/leases and lib/dashboard read and write it from here, never the reverse.
 */

import { shardOf } from '../db/shard';
import { INDEXES } from '../db/table-definition';
import type { TransactItem } from '../db/transaction';
import { buildKey } from './build.keys';
import { type Build, type BuildStatus, COUNTED_BY, COUNTED_BY_STREAM } from './build.model';

export const LIVE_SK = 'LIVE';
export const liveKey = (buildId: string) => ({ pk: buildKey(buildId).pk, sk: LIVE_SK });

/** Partitions of the active index; readers query each of them. */
export const ACTIVE_SHARDS = 4;
export const activePartition = (shard: number) => `ACTIVE#${shard}`;
/** Statuses that keep a build in the active index: something has run and the build is not done or blocked. */
export const ACTIVE_STATUSES: ReadonlySet<BuildStatus> = new Set(['in_progress', 'failed']);

/** The live item as stored, without keys. Lease fields are absent while nobody holds a lease. */
export interface LiveItem {
  build_id: string;
  project_id: string;
  platform_id: string;
  image_type_id: string;
  current_state: number;
  state_status: Build['state_status'];
  status: BuildStatus;
  attempt: number;
  attempt_started_at: string | null;
  last_completed_state: number | null;
  started_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  /** Written only by heartbeats, renewals and takes of the lease (never by a build change). */
  last_heartbeat_at?: string;
  last_heartbeat_ms?: number;
  /** A state report's time (the build's last_reported_at, copied from the stream): a sign of life as good as a heartbeat. */
  last_report_at?: string;
  last_report_ms?: number;
  last_worker_id?: string | null;
  /** The worker of the last heartbeat sent without a lease. */
  heartbeat_worker_id?: string;
  /** When the last heartbeat without a lease was sent: the only sign of life of a lease-less attempt besides reports. */
  unleased_heartbeat_ms?: number;
  lease_id?: string;
  lease_worker_id?: string;
  lease_expires_ms?: number;
  lease_acquired_at?: string;
  lease_ttl_s?: number;
  lease_ttl_ms?: number;
  /** Increases with every lease ever granted on this build; never reset. */
  lease_fence?: number;
  /**
   * Written only by a take that replaced a lease (lib/leases/lease.repository.ts): that lease's
   * id, holder, expiry and last renewal or heartbeat, and when it was replaced, so the takeover
   * of the attempt it ran still knows its worker's signs of life (lost-attempt.ts).
   */
  prev_lease_id?: string;
  prev_lease_worker_id?: string;
  prev_lease_expires_ms?: number;
  prev_lease_heartbeat_ms?: number;
  prev_lease_ended_ms?: number;
}

/** What a state report claims about the lease: the X-Lease-Id it carries, or none. */
export interface LeaseClaim {
  leaseId: string | null;
}

/** Present on every live item a build change wrote; absent on a lease/heartbeat-only stub (or none). */
export const LIVE_MARK = 'project_id';

/**
 * On a fork parent's live item, written by the dashboard's aggregator only (`fanOutOf`,
 * lib/dashboard/aggregates.ts): the parent's version when a child was forked from it. While the
 * parent is still at that version and `in_progress`, it has done nothing since it fanned out: it
 * waits on its children, whose work is counted as theirs. Its family status follows them (family.ts).
 */
export const FANNED_OUT = 'fanned_out_version';

/** Name of the live item's part in a build change's transaction (lib/db/transaction.ts). */
export const LIVE_PART = 'live';

/** The latest sign of life of a build's worker: a heartbeat, a renewal or a report. */
export const lastSignOfLifeMs = (live: Pick<LiveItem, 'last_heartbeat_ms' | 'last_report_ms'>): number =>
  Math.max(live.last_heartbeat_ms ?? 0, live.last_report_ms ?? 0);

/** The position fields a live item copies from its build (LIVE_MARK among them). */
function positionFields(build: Build): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    type: 'live',
    build_id: build.id,
    project_id: build.project_id,
    platform_id: build.platform_id,
    image_type_id: build.image_type_id,
    current_state: build.current_state,
    state_status: build.state_status,
    status: build.status,
    attempt: build.attempt,
    attempt_started_at: build.attempt_started_at ?? null,
    last_completed_state: build.last_completed_state,
    started_at: build.started_at,
    created_at: build.created_at,
    updated_at: build.updated_at,
    version: build.version,
    last_worker_id: build.last_worker_id,
    // Counted by the stream aggregator, not by this change's transaction (build.model.ts).
    [COUNTED_BY]: COUNTED_BY_STREAM,
  };
  // A child's live item names its parent: the aggregator keeps the parent's roll-up from it.
  if (build.parent_id) fields.parent_id = build.parent_id;
  // A fork parent whose status follows its children: the summary counts it as fanned out (aggregates.ts).
  if (build.family_version !== undefined) fields.family_version = build.family_version;
  if (build.last_reported_at) {
    fields.last_report_at = build.last_reported_at;
    fields.last_report_ms = Date.parse(build.last_reported_at);
  }
  return fields;
}

/** SET of the position copy (and the active index keys, or their REMOVE once the build is not active). */
function positionUpdate(build: Build) {
  const fields = positionFields(build);
  const active = ACTIVE_STATUSES.has(build.status);
  if (active) {
    fields[INDEXES.byActive.partitionKey] = activePartition(shardOf(build.id, ACTIVE_SHARDS));
    fields[INDEXES.byActive.sortKey] = `${build.created_at}#${build.id}`;
  }
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(fields).map(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  let update = `SET ${sets.join(', ')}`;
  if (!active) {
    names['#apk'] = INDEXES.byActive.partitionKey;
    names['#ask'] = INDEXES.byActive.sortKey;
    update += ' REMOVE #apk, #ask';
  }
  return { update, names, values };
}

/**
 * The live item's part of a build change other than a report (create, fork, cancel, unblock …):
 * copies the build's position. It writes no lease attribute and no heartbeat attribute: those
 * belong to lease calls and heartbeats, which therefore never race with a change over the same
 * attribute, so neither can write the other's value back to an older one.
 */
export function liveUpdate(tableName: string, build: Build): TransactItem {
  const { update, names, values } = positionUpdate(build);
  return {
    Update: {
      TableName: tableName,
      Key: liveKey(build.id),
      UpdateExpression: update,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * The position copy of a build from its stream record (the build item as committed): the live
 * item of a report. Conditioned on an older copy (or none), so a redelivered or late record never
 * moves it back, and a change that wrote its own copy (a newer version) wins.
 */
export function liveProjection(tableName: string, build: Build): TransactItem {
  const { update, names, values } = positionUpdate(build);
  names['#pver'] = 'version';
  values[':pver'] = build.version;
  return {
    Update: {
      TableName: tableName,
      Key: liveKey(build.id),
      UpdateExpression: update,
      ConditionExpression: 'attribute_not_exists(#pver) OR #pver < :pver',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * The live item's part of a state report, when the build item's `lease_id` (as read; the build put
 * is conditioned on it) cannot decide the report's lease alone, else undefined: the report then
 * writes only the build and its history.
 *   - it names a lease and the build's lease_id is that lease: accepted (the put's condition holds
 *     it so); otherwise the live item must hold that lease (a build from before lease_id, or a
 *     lease that was replaced: refused with the holder);
 *   - it names none and lease_id is null: accepted; otherwise the live item's lease must be absent
 *     or expired at `nowMs` (expiry lives on the live item, where renewals move it);
 *   - a takeover of a lease-less attempt (`quietCutoffMs`) also needs the live item to show no
 *     lease-less heartbeat after the cutoff (the worker is still silent when the takeover commits).
 */
export function leaseCheck(
  tableName: string,
  before: Pick<Build, 'id' | 'lease_id'>,
  claim: LeaseClaim,
  nowMs: number,
  quietCutoffMs?: number,
): TransactItem | undefined {
  const leaseDecided = claim.leaseId ? before.lease_id === claim.leaseId : before.lease_id === null;
  if (leaseDecided && quietCutoffMs === undefined) return undefined;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const conditions: string[] = [];
  if (!leaseDecided) {
    names['#lid'] = 'lease_id';
    if (claim.leaseId) {
      conditions.push('#lid = :lid');
      values[':lid'] = claim.leaseId;
    } else {
      names['#lexp'] = 'lease_expires_ms';
      conditions.push('(attribute_not_exists(#lid) OR #lexp <= :now)');
      values[':now'] = nowMs;
    }
  }
  if (quietCutoffMs !== undefined) {
    // A takeover of a lease-less attempt: no lease-less heartbeat since the silence cutoff.
    names['#uhb'] = 'unleased_heartbeat_ms';
    conditions.push('(attribute_not_exists(#uhb) OR #uhb <= :quiet)');
    values[':quiet'] = quietCutoffMs;
  }
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: liveKey(before.id),
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * The live item's part of a takeover made without a lease, while the dead worker's lease is still
 * the build's (expired, never re-taken): that lease ends with the takeover (as a release would),
 * so a renewal or report under it is refused from then on. Conditioned on the lease still being
 * that one and expired, which is what allowed the takeover.
 */
export function endExpiredLease(
  tableName: string,
  buildId: string,
  leaseId: string,
  nowMs: number,
): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: liveKey(buildId),
      UpdateExpression: 'REMOVE #lid, #lw, #lexp, #lat, #lttl, #lttlms',
      ConditionExpression: '#lid = :lid AND #lexp <= :now',
      ExpressionAttributeNames: {
        '#lid': 'lease_id',
        '#lw': 'lease_worker_id',
        '#lexp': 'lease_expires_ms',
        '#lat': 'lease_acquired_at',
        '#lttl': 'lease_ttl_s',
        '#lttlms': 'lease_ttl_ms',
      },
      ExpressionAttributeValues: { ':lid': leaseId, ':now': nowMs },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

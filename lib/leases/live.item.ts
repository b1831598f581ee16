/**
 * A build's live item (`BUILD#<id>` / `LIVE`): the small, often-written companion of the build item.
 * It holds the worker lease, the last heartbeat and a copy of where the build is, so heartbeats and
 * lease renewals never touch (or conflict with) the build item and its version, and so the active
 * index (by-active, sparse and sharded) lists running builds without reading build items.
 */
import { buildKey } from '../builds/build.keys';
import { type Build, type BuildStatus, COUNTED_BY, COUNTED_BY_STREAM } from '../builds/build.model';
import { shardOf } from '../db/shard';
import { INDEXES } from '../db/table-definition';
import type { TransactItem } from '../db/transaction';

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
  /** Written only by state reports: a report is a sign of life as good as a heartbeat. */
  last_report_at?: string;
  last_report_ms?: number;
  last_worker_id?: string | null;
  /** The worker of the last heartbeat sent without a lease. */
  heartbeat_worker_id?: string;
  lease_id?: string;
  lease_worker_id?: string;
  lease_expires_ms?: number;
  lease_acquired_at?: string;
  lease_ttl_s?: number;
  lease_ttl_ms?: number;
  /** Increases with every lease ever granted on this build; never reset. */
  lease_fence?: number;
}

/** What a state report claims about the lease: the X-Lease-Id it carries, or none. */
export interface LeaseClaim {
  leaseId: string | null;
}

/** Present on every live item a build change wrote; absent on a lease/heartbeat-only stub (or none). */
export const LIVE_MARK = 'project_id';

/** Name of the live item's part in a build change's transaction (lib/db/transaction.ts). */
export const LIVE_PART = 'live';

/** The latest sign of life of a build's worker: a heartbeat, a renewal or a report. */
export const lastSignOfLifeMs = (live: Pick<LiveItem, 'last_heartbeat_ms' | 'last_report_ms'>): number =>
  Math.max(live.last_heartbeat_ms ?? 0, live.last_report_ms ?? 0);

/**
 * The live item's part of a build change: copies the build's position and, for state reports,
 * enforces the lease inside the same transaction (checked against `nowMs`, never left to TTL):
 * a report that names a lease must name the current one; a report that names none is refused
 * while someone else's lease is live.
 *
 * It writes no lease attribute and no heartbeat attribute: those belong to lease calls and
 * heartbeats (lib/leases/lease.repository.ts), which therefore never race with a report over the
 * same attribute, so neither can write the other's value back to an older one. A report records
 * its own sign of life (`last_report_*`); stuck detection takes the later of the two.
 */
export function liveUpdate(tableName: string, build: Build, nowMs: number, claim?: LeaseClaim): TransactItem {
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
  if (claim) {
    fields.last_report_at = new Date(nowMs).toISOString();
    fields.last_report_ms = nowMs;
  }
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
  let condition: string | undefined;
  if (claim) {
    names['#lid'] = 'lease_id';
    if (claim.leaseId) {
      condition = '#lid = :lid';
      values[':lid'] = claim.leaseId;
    } else {
      names['#lexp'] = 'lease_expires_ms';
      condition = '(attribute_not_exists(#lid) OR #lexp <= :now)';
      values[':now'] = nowMs;
    }
  }
  return {
    Update: {
      TableName: tableName,
      Key: liveKey(build.id),
      UpdateExpression: update,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(condition
        ? { ConditionExpression: condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }
        : {}),
    },
  };
}

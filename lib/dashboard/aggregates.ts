/**
 * Aggregate items, maintained from the table's change stream (never inside a request's
 * transaction), so the dashboard reads a fixed number of small items whatever the number of
 * builds, and no report ever writes an item another build writes too:
 *   AGG#SUMMARY#<shard>            builds by status, by platform and status; failed attempts by state
 *   AGG#DAY#<yyyy-mm-dd>#<shard>   outcomes of that UTC day (success rate over 7 days)
 *   AGG#DURATIONS / <platform>#<code>   histogram of completed attempt durations
 *
 * What counts what (a pure function of one stream record, `countsOf`):
 *   - a live item's record counts the build in the summary: its first image that carries the
 *     build's fields (LIVE_MARK) adds it (total, status, platform × status); later ones move it
 *     from the old status to the new. So a build from before live items is counted when its live
 *     item is first written (by its next change or by the backfill), never twice.
 *   - a history item's insert counts the change: failed attempts by state, the day's outcomes, and
 *     the duration of a completed attempt.
 *   - a fork parent that waits on its children is counted as `fanned_out`, not as in_progress
 *     (`summaryBucket`): the aggregator marks the parent's live item when it sees a child's
 *     `forked` entry (`fanOutOf`), and the marked image moves it; its next report moves it back.
 * Only records of items this version wrote count (`counted_by: 'stream'`, build.model.ts): the
 * version before counted inside each change's transaction, so its records, still in the stream
 * when a table is upgraded, are counted already, whatever the order of deploy and stream reads.
 * The Aggregator applies those counts exactly once per record (see below).
 */
import { buildKey, childrenKey } from '../builds/build.keys';
import { COUNTED_BY, COUNTED_BY_STREAM, type HistoryEntry } from '../builds/build.model';
import { FANNED_OUT, LIVE_MARK } from '../builds/live.item';
import { shardOf } from '../db/shard';
import { bucketAttribute, bucketOf } from './histogram';

export const AGGREGATE_SHARDS = 4;
export const SUMMARY_SK = 'AGG';
export const summaryKey = (shard: number) => ({ pk: `AGG#SUMMARY#${shard}`, sk: SUMMARY_SK });
export const dayKey = (day: string, shard: number) => ({ pk: `AGG#DAY#${day}#${shard}`, sk: SUMMARY_SK });
export const DURATIONS_PK = 'AGG#DURATIONS';
/**
 * Work avoided, one item per UTC month (`AGG#AVOIDED#<yyyy-mm>`) with counters per day
 * (`<dd>#total`, `<dd>#platform:<p>`): any 30-day window is at most two item reads. Written on
 * retries and forks only.
 */
export const avoidedKey = (day: string) => ({ pk: `AGG#AVOIDED#${day.slice(0, 7)}`, sk: SUMMARY_SK });
export const avoidedCounter = (day: string, name: string) => `${day.slice(8, 10)}#${name}`;
/**
 * Costs, one item per UTC month (`AGG#COST#<yyyy-mm>`) with micro-unit counters per day, group
 * and currency: `<dd>#<group>:<value>#<currency>#<measure>` (group: platform, project,
 * image_type, state; measure: total, failed, avoided). A window of up to a year is at most 13
 * item reads, whatever the number of builds; currencies are separate counters, never summed.
 */
export const costKey = (day: string) => ({ pk: `AGG#COST#${day.slice(0, 7)}`, sk: SUMMARY_SK });
export const COST_GROUPS = ['platform', 'project', 'image_type', 'state'] as const;
export type CostGroup = (typeof COST_GROUPS)[number];
export const COST_MEASURES = ['total', 'failed', 'avoided'] as const;
export type CostMeasure = (typeof COST_MEASURES)[number];
export const costCounter = (
  day: string,
  group: CostGroup,
  value: string,
  currency: string,
  measure: CostMeasure,
) => `${day.slice(8, 10)}#${group}:${value}#${currency}#${measure}`;
/** The parts of a cost counter's name (null for any other attribute). */
export function parseCostCounter(
  name: string,
): { dd: string; group: CostGroup; value: string; currency: string; measure: CostMeasure } | null {
  const m = /^(\d\d)#(platform|project|image_type|state):(.+)#([A-Z]{3})#(total|failed|avoided)$/.exec(name);
  return m
    ? { dd: m[1]!, group: m[2] as CostGroup, value: m[3]!, currency: m[4]!, measure: m[5] as CostMeasure }
    : null;
}
const codeKey = (code: number) => String(code).padStart(3, '0');
export const durationsKey = (platformId: string, code: number) => ({
  pk: DURATIONS_PK,
  sk: `${platformId}#${codeKey(code)}`,
});

/** Counter attribute names, shared by the writer below and the dashboard reader. */
export const counter = {
  status: (status: string) => `status:${status}`,
  platformStatus: (platform: string, status: string) => `platform:${platform}:${status}`,
  failedAttempts: (code: number) => `failed_attempts:${code}`,
  total: 'builds_total',
};
export const DAY_COUNTERS = [
  'builds_completed',
  'builds_cancelled',
  'builds_blocked',
  'attempts_completed',
  'attempts_failed',
] as const;
export type DayCounter = (typeof DAY_COUNTERS)[number];

const utcDay = (iso: string) => iso.slice(0, 10);

type Item = Record<string, unknown>;
export interface ItemKey {
  pk: string;
  sk: string;
}

/** A stream record, images unmarshalled (the Lambda event and the local poller both map to it). */
export interface ChangeRecord {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** Stream sequence number: for logs and batch item failures only (unique, ordered per shard). */
  sequence: string;
  oldImage?: Item;
  newImage?: Item;
}

/** What one aggregate item gains from one or more records: ADDs, and SETs of fixed labels. */
export interface AggregateDelta {
  key: ItemKey;
  add: Map<string, number>;
  set: Record<string, unknown>;
}

/** One record's contribution and the key of its "applied" marker (one per record ever counted). */
export interface Counts {
  marker: ItemKey;
  deltas: AggregateDelta[];
  /** A priced history entry's amounts (micro-units), reported once applied (the aggregator's CloudWatch metric). */
  cost?: AppliedCost;
}

export interface AppliedCost {
  platform_id: string;
  currency: string;
  micros: number;
  avoided_micros: number;
}

/** Sort key prefix of applied markers under a build's partition. */
export const APPLIED_PREFIX = 'AGG#';
/**
 * The applied marker of a record: in the build's own partition, keyed by what the record counts
 * (`live` or `hist`) and the build version it carries, which is unique per build for both: a
 * history item per seq, a counted live image per version (heartbeats and lease calls never
 * change a counted field, and count nothing).
 */
export const appliedKey = (buildId: string, source: 'live' | 'hist' | 'fan', version: number): ItemKey => ({
  pk: buildKey(buildId).pk,
  sk: `${APPLIED_PREFIX}${source}#${String(version).padStart(10, '0')}`,
});

class Deltas {
  private readonly byKey = new Map<string, AggregateDelta>();

  add(key: ItemKey, name: string, value: number, set: Record<string, unknown> = {}) {
    const id = `${key.pk}|${key.sk}`;
    const delta = this.byKey.get(id) ?? { key, add: new Map<string, number>(), set: {} };
    this.byKey.set(id, delta);
    delta.add.set(name, (delta.add.get(name) ?? 0) + value);
    Object.assign(delta.set, set);
  }

  /** Non-zero deltas only. */
  list(): AggregateDelta[] {
    return [...this.byKey.values()]
      .map((d) => ({ ...d, add: new Map([...d.add].filter(([, v]) => v !== 0)) }))
      .filter((d) => d.add.size > 0);
  }
}

/** What one stream record adds to the aggregates; null for records that count nothing. */
export function countsOf(record: ChangeRecord): Counts | null {
  const item = record.newImage;
  if (!item || record.eventName === 'REMOVE' || item[COUNTED_BY] !== COUNTED_BY_STREAM) return null;
  if (item.type === 'live') return liveCounts(record.oldImage, item);
  if (item.type === 'history' && record.eventName === 'INSERT')
    return historyCounts(item as unknown as HistoryEntry);
  return null;
}

/** The summary's count of fanned-out parents (FANNED_OUT) (`status:fanned_out`, `platform:<p>:fanned_out`), apart from every status. */
export const FANNED_OUT_BUCKET = 'fanned_out';

/** What a counted live image counts as in the summary: its status, or `fanned_out` (above). */
export function summaryBucket(item: Item): string {
  // Still at the version it fanned out at, or at its last family status change (lib/builds/family.ts).
  const following =
    (item[FANNED_OUT] !== undefined && Number(item[FANNED_OUT]) === Number(item.version)) ||
    (item.family_version !== undefined && Number(item.family_version) === Number(item.version));
  const waiting = item.status === 'in_progress' && following;
  return waiting ? FANNED_OUT_BUCKET : String(item.status);
}

/**
 * The parent's live item to mark from a child's `forked` history insert: its id and the version
 * the child was forked from. The mark is written only while the parent's live item is not past
 * that version (a parent that reported since is doing its own work), and only ever raised, so it
 * is the same write however often the record is delivered.
 */
export function fanOutOf(record: ChangeRecord): { parentId: string; version: number } | null {
  const item = record.newImage;
  if (record.eventName !== 'INSERT' || item?.type !== 'history' || item.event !== 'forked') return null;
  if (typeof item.parent_id !== 'string' || typeof item.parent_version !== 'number') return null;
  return { parentId: item.parent_id, version: item.parent_version };
}

function liveCounts(old: Item | undefined, now: Item): Counts | null {
  if (now[LIVE_MARK] === undefined) return null;
  const buildId = String(now.build_id);
  const platform = String(now.platform_id);
  const bucket = summaryBucket(now);
  const counted = old?.[LIVE_MARK] !== undefined;
  // A record that changes the build's version has its own marker; one that only marks the parent
  // as fanned out (same version) is keyed by that mark, which is written once per version.
  const marker =
    counted && Number(old!.version) === Number(now.version) && old![FANNED_OUT] !== now[FANNED_OUT]
      ? appliedKey(buildId, 'fan', Number(now[FANNED_OUT]))
      : appliedKey(buildId, 'live', Number(now.version));
  const deltas = new Deltas();
  if (typeof now.parent_id === 'string') childCounts(deltas, counted ? old! : undefined, now);
  if (counted && summaryBucket(old!) === bucket) {
    const list = deltas.list();
    return list.length ? { marker, deltas: list } : null;
  }
  const summary = summaryKey(shardOf(buildId, AGGREGATE_SHARDS));
  if (counted) {
    const before = summaryBucket(old!);
    deltas.add(summary, counter.status(before), -1);
    deltas.add(summary, counter.platformStatus(String(old!.platform_id), before), -1);
  } else {
    deltas.add(summary, counter.total, 1);
  }
  deltas.add(summary, counter.status(bucket), 1);
  deltas.add(summary, counter.platformStatus(platform, bucket), 1);
  return { marker, deltas: deltas.list() };
}

/**
 * A child's share of its parent's roll-up (`BUILD#<parent>` / `CHILDREN`): counted once, then
 * moved between status and progress counters as it changes, so a parent read is one GetItem
 * whatever the number of children.
 */
function childCounts(deltas: Deltas, old: Item | undefined, now: Item): void {
  const key = childrenKey(String(now.parent_id));
  const progress = (item: Item) => `progress:${Number(item.last_completed_state ?? 0)}`;
  if (old) {
    if (old.status === now.status && progress(old) === progress(now)) return;
    deltas.add(key, `status:${String(old.status)}`, -1);
    deltas.add(key, progress(old), -1);
  } else {
    deltas.add(key, 'total', 1, { type: 'rollup', parent_id: now.parent_id });
  }
  deltas.add(key, `status:${String(now.status)}`, 1);
  deltas.add(key, progress(now), 1);
}

function historyCounts(h: HistoryEntry): Counts | null {
  const shard = shardOf(h.build_id, AGGREGATE_SHARDS);
  const deltas = new Deltas();
  const day = dayKey(utcDay(h.recorded_at), shard);
  if (h.from_build_status !== h.build_status) {
    if (h.build_status === 'completed') deltas.add(day, 'builds_completed', 1);
    if (h.build_status === 'cancelled') deltas.add(day, 'builds_cancelled', 1);
    if (h.build_status === 'blocked') deltas.add(day, 'builds_blocked', 1);
  }
  if (typeof h.work_avoided_s === 'number' && h.work_avoided_s > 0) {
    const key = avoidedKey(utcDay(h.recorded_at));
    const day = utcDay(h.recorded_at);
    deltas.add(key, avoidedCounter(day, 'total'), Math.round(h.work_avoided_s));
    if (h.platform_id)
      deltas.add(key, avoidedCounter(day, `platform:${h.platform_id}`), Math.round(h.work_avoided_s));
  }
  if (h.cost) costCounts(deltas, h);
  if (h.event === 'state_reported' && h.status === 'failed') {
    deltas.add(summaryKey(shard), counter.failedAttempts(h.state_code), 1);
    deltas.add(day, 'attempts_failed', 1);
  }
  if (h.event === 'state_reported' && h.status === 'completed') {
    deltas.add(day, 'attempts_completed', 1);
    if (typeof h.duration_s === 'number' && h.platform_id) {
      const key = durationsKey(h.platform_id, h.state_code);
      const labels = { platform_id: h.platform_id, state_code: h.state_code };
      deltas.add(key, 'samples', 1, labels);
      deltas.add(key, 'sum_s', Math.round(h.duration_s));
      deltas.add(key, bucketAttribute(bucketOf(h.duration_s)), 1);
    }
  }
  const list = deltas.list();
  if (!list.length) return null;
  const counts: Counts = { marker: appliedKey(h.build_id, 'hist', h.seq), deltas: list };
  if (h.cost && h.platform_id)
    counts.cost = {
      platform_id: h.platform_id,
      currency: h.cost.currency,
      micros: h.cost.attempt_micros,
      avoided_micros: h.cost.avoided_micros,
    };
  return counts;
}

/** A priced entry's amounts under each group it belongs to, on the day it was recorded. */
function costCounts(deltas: Deltas, h: HistoryEntry): void {
  const cost = h.cost!;
  const day = utcDay(h.recorded_at);
  const key = costKey(day);
  const groups: [CostGroup, string | undefined][] = [
    ['platform', h.platform_id],
    ['project', h.project_id],
    ['image_type', h.image_type_id],
    ['state', String(h.state_code)],
  ];
  for (const [group, value] of groups) {
    if (!value) continue;
    const name = (measure: CostMeasure) => costCounter(day, group, value, cost.currency, measure);
    deltas.add(key, name('total'), cost.attempt_micros);
    if (cost.failed) deltas.add(key, name('failed'), cost.attempt_micros);
    deltas.add(key, name('avoided'), cost.avoided_micros);
  }
}

/** Several records' deltas on the same items, summed: one update per aggregate item. */
export function mergeDeltas(all: AggregateDelta[]): AggregateDelta[] {
  const merged = new Deltas();
  for (const d of all) for (const [name, value] of d.add) merged.add(d.key, name, value, d.set);
  return merged.list();
}

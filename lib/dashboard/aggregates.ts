/**
 * Aggregate items, kept up to date inside the same transaction as the change they count, so the
 * dashboard reads a fixed number of small items whatever the number of builds:
 *   AGG#SUMMARY#<shard>            builds by status, by platform and status; failed attempts by state
 *   AGG#DAY#<yyyy-mm-dd>#<shard>   outcomes of that UTC day (success rate over 7 days)
 *   AGG#DURATIONS / <platform>#<code>   histogram of completed attempt durations
 * Summary and day items are sharded by build id (every change writes one of them); a durations item
 * is written once per completed attempt of one state on one platform.
 */
import type { Build, Change } from '../builds/build.model';
import type { TransactItem } from '../builds/build.repository';
import { shardOf } from '../db/shard';
import { bucketAttribute, bucketOf } from './histogram';

export const AGGREGATE_SHARDS = 4;
export const SUMMARY_SK = 'AGG';
export const summaryKey = (shard: number) => ({ pk: `AGG#SUMMARY#${shard}`, sk: SUMMARY_SK });
export const dayKey = (day: string, shard: number) => ({ pk: `AGG#DAY#${day}#${shard}`, sk: SUMMARY_SK });
export const DURATIONS_PK = 'AGG#DURATIONS';
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

/** The ADD updates that count `change` (before = null for a new build). */
export function aggregateUpdates(tableName: string, before: Build | null, change: Change): TransactItem[] {
  const after = change.build;
  const history = change.history;
  const shard = shardOf(after.id, AGGREGATE_SHARDS);
  const summary = new Counts();
  const day = new Counts();

  if (!before) summary.add(counter.total, 1);
  if (!before || before.status !== after.status) {
    if (before) {
      summary.add(counter.status(before.status), -1);
      summary.add(counter.platformStatus(before.platform_id, before.status), -1);
    }
    summary.add(counter.status(after.status), 1);
    summary.add(counter.platformStatus(after.platform_id, after.status), 1);
    if (after.status === 'completed') day.add('builds_completed', 1);
    if (after.status === 'cancelled') day.add('builds_cancelled', 1);
    if (after.status === 'blocked') day.add('builds_blocked', 1);
  }

  const items: TransactItem[] = [];
  if (history.event === 'state_reported' && history.status === 'failed') {
    summary.add(counter.failedAttempts(history.state_code), 1);
    day.add('attempts_failed', 1);
  }
  if (history.event === 'state_reported' && history.status === 'completed') {
    day.add('attempts_completed', 1);
    const started = before?.attempt_started_at;
    if (started && before.current_state === after.current_state && before.attempt === after.attempt) {
      const seconds = Math.max(0, (Date.parse(history.recorded_at) - Date.parse(started)) / 1000);
      items.push(durationUpdate(tableName, after.platform_id, after.current_state, seconds));
    }
  }
  if (!summary.empty) items.push(summary.update(tableName, summaryKey(shard)));
  if (!day.empty) items.push(day.update(tableName, dayKey(utcDay(history.recorded_at), shard)));
  return items;
}

function durationUpdate(tableName: string, platformId: string, code: number, seconds: number): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: durationsKey(platformId, code),
      UpdateExpression: 'SET #p = :p, #c = :c ADD #n :one, #sum :s, #b :one',
      ExpressionAttributeNames: {
        '#p': 'platform_id',
        '#c': 'state_code',
        '#n': 'samples',
        '#sum': 'sum_s',
        '#b': bucketAttribute(bucketOf(seconds)),
      },
      ExpressionAttributeValues: { ':p': platformId, ':c': code, ':one': 1, ':s': Math.round(seconds) },
    },
  };
}

class Counts {
  private readonly values = new Map<string, number>();

  add(name: string, delta: number) {
    this.values.set(name, (this.values.get(name) ?? 0) + delta);
  }

  get empty() {
    return [...this.values.values()].every((v) => v === 0);
  }

  update(tableName: string, key: { pk: string; sk: string }): TransactItem {
    const entries = [...this.values].filter(([, v]) => v !== 0);
    return {
      Update: {
        TableName: tableName,
        Key: key,
        UpdateExpression: `ADD ${entries.map((_, i) => `#a${i} :v${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#a${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
      },
    };
  }
}

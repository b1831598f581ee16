/** Histograms, stuck verdicts and the counters a change adds: pure rules. */

import { applyReport } from '../../../../lib/builds/transitions';
import {
  AGGREGATE_SHARDS,
  aggregateUpdates,
  dayKey,
  durationsKey,
} from '../../../../lib/dashboard/aggregates';
import { bucketOf, bucketValue, percentile } from '../../../../lib/dashboard/histogram';
import { stuckAttempt } from '../../../../lib/dashboard/stuck';
import { shardOf } from '../../../../lib/db/shard';
import type { LiveItem } from '../../../../lib/leases/live.item';
import { buildAt, ctx, T0, T1 } from '../../../helpers/builds';

describe('histogram', () => {
  it('puts every duration in a bucket whose reported value is within 5%', () => {
    for (const seconds of [1.5, 2, 10, 59, 60, 61, 300, 3599, 5400, 86400]) {
      const value = bucketValue(bucketOf(seconds));
      expect(Math.abs(value - seconds) / seconds).toBeLessThanOrEqual(0.05);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1)).toBe(0);
  });

  it('reads percentiles by rank', () => {
    const h = new Map<number, number>();
    for (const s of [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
      h.set(bucketOf(s), (h.get(bucketOf(s)) ?? 0) + 1);
    expect(Math.abs(percentile(h, 0.5)! - 500) / 500).toBeLessThanOrEqual(0.05);
    expect(Math.abs(percentile(h, 0.9)! - 900) / 900).toBeLessThanOrEqual(0.05);
    expect(percentile(new Map(), 0.5)).toBeNull();
  });
});

describe('stuck verdicts', () => {
  const started = Date.parse('2026-01-01T00:00:00Z');
  const live = (fields: Partial<LiveItem> = {}): LiveItem => ({
    build_id: 'b',
    project_id: 'default',
    platform_id: 'aws',
    image_type_id: 'x',
    current_state: 10,
    state_status: 'in_progress',
    status: 'in_progress',
    attempt: 1,
    attempt_started_at: new Date(started).toISOString(),
    last_completed_state: 5,
    started_at: null,
    created_at: T0,
    updated_at: T0,
    version: 3,
    ...fields,
  });
  const policy = { heartbeatTimeoutSeconds: 300, overdueFactor: 2 };
  const at = (s: number) => started + s * 1000;

  it('is silent after the timeout since the last heartbeat or the start, whichever is later', () => {
    expect(stuckAttempt(live(), at(299), policy, null)).toBeNull();
    expect(stuckAttempt(live(), at(300), policy, null)?.kinds).toEqual(['silent']);
    expect(stuckAttempt(live({ last_heartbeat_ms: at(200) }), at(300), policy, null)).toBeNull();
    expect(stuckAttempt(live({ last_heartbeat_ms: at(200) }), at(500), policy, null)?.silent_s).toBe(300);
  });

  it('is overdue past factor × yardstick, and never without a yardstick', () => {
    const yard = { seconds: 100, source: 'p95' as const };
    const fresh = { last_heartbeat_ms: at(1000) };
    expect(stuckAttempt(live(fresh), at(200), policy, yard)).toBeNull();
    expect(stuckAttempt(live(fresh), at(201), policy, yard)).toMatchObject({
      kinds: ['overdue'],
      overdue_after_s: 200,
    });
    expect(stuckAttempt(live(fresh), at(100_000), policy, null)?.kinds).toEqual(['silent']);
  });

  it('ignores anything that is not a running attempt', () => {
    for (const state_status of ['completed', 'failed', null] as const)
      expect(stuckAttempt(live({ state_status }), at(10_000), policy, null)).toBeNull();
  });
});

describe('aggregate updates', () => {
  const names = (items: ReturnType<typeof aggregateUpdates>) =>
    items.map((i) => ({
      key: i.Update!.Key,
      names: Object.values(i.Update!.ExpressionAttributeNames ?? {}),
    }));

  it('moves the status counters, counts the outcome of the day and the duration', () => {
    const running = buildAt({
      current_state: 10,
      state_status: 'in_progress',
      status: 'in_progress',
      attempt: 1,
      attempt_started_at: T0,
    });
    const change = applyReport(running, { state_code: 10, status: 'completed' }, ctx({ now: T1 }));
    const items = names(aggregateUpdates('t', running, change));
    expect(items).toContainEqual({
      key: dayKey('2026-01-01', shardOf('b-1', AGGREGATE_SHARDS)),
      names: ['attempts_completed'],
    });
    expect(items).toContainEqual(expect.objectContaining({ key: durationsKey('aws', 10) }));
    // in_progress → in_progress: no status counter moves, so no summary item is written.
    expect(items.some((i) => String(i.key?.pk).startsWith('AGG#SUMMARY'))).toBe(false);
  });

  it('counts a failure per state and a blocked build of the day', () => {
    const last = buildAt({
      current_state: 30,
      state_status: 'failed',
      status: 'failed',
      attempt: 2,
      max_attempts: 3,
    });
    const change = applyReport(last, { state_code: 30, status: 'failed', error: 'x' }, ctx());
    const all = names(aggregateUpdates('t', last, change)).flatMap((i) => i.names);
    expect(all).toEqual(
      expect.arrayContaining([
        'status:failed',
        'status:blocked',
        'platform:aws:failed',
        'platform:aws:blocked',
        'failed_attempts:30',
        'attempts_failed',
        'builds_blocked',
      ]),
    );
  });
});

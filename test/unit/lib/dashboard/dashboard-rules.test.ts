/** Histograms, stuck verdicts and the counters a change adds: pure rules. */

import type { Build, Change } from '../../../../lib/builds/build.model';
import { type LiveItem, liveUpdate } from '../../../../lib/builds/live.item';
import { applyReport } from '../../../../lib/builds/transitions';
import {
  AGGREGATE_SHARDS,
  appliedKey,
  type ChangeRecord,
  countsOf,
  dayKey,
  durationsKey,
  mergeDeltas,
  summaryKey,
} from '../../../../lib/dashboard/aggregates';
import { bucketOf, bucketValue, percentile } from '../../../../lib/dashboard/histogram';
import { stuckAttempt } from '../../../../lib/dashboard/stuck';
import { shardOf } from '../../../../lib/db/shard';
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
    // A report is a sign of life too (kept apart from heartbeats, so neither overwrites the other).
    expect(stuckAttempt(live({ last_report_ms: at(250) }), at(500), policy, null)).toBeNull();
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

/** The stream records of one change: the history insert and the live item's update (old → new image). */
function recordsOf(before: Build | null, change: Change): { history: ChangeRecord; live: ChangeRecord } {
  const image = (b: Build) => {
    const values = liveUpdate('t', b).Update!.ExpressionAttributeValues!;
    const names = liveUpdate('t', b).Update!.ExpressionAttributeNames!;
    return Object.fromEntries(
      Object.entries(names)
        .filter(([k]) => k.startsWith('#f'))
        .map(([k, name]) => [name, values[`:${k.slice(1)}`]]),
    );
  };
  return {
    history: { eventName: 'INSERT', sequence: '1', newImage: { type: 'history', ...change.history } },
    live: {
      eventName: before ? 'MODIFY' : 'INSERT',
      sequence: '2',
      ...(before ? { oldImage: image(before) } : {}),
      newImage: image(change.build),
    },
  };
}

const adds = (record: ChangeRecord) =>
  (countsOf(record)?.deltas ?? []).map((d) => ({ key: d.key, add: Object.fromEntries(d.add) }));

describe('what a committed change counts (from its stream records)', () => {
  it('counts the outcome of the day and the duration from the history insert; no status move, no summary', () => {
    const running = buildAt({
      current_state: 10,
      state_status: 'in_progress',
      status: 'in_progress',
      attempt: 1,
      attempt_started_at: T0,
    });
    const change = applyReport(running, { state_code: 10, status: 'completed' }, ctx({ now: T1 }));
    expect(change.history.duration_s).toBe(300);
    const { history, live } = recordsOf(running, change);
    expect(adds(history)).toContainEqual({
      key: dayKey('2026-01-01', shardOf('b-1', AGGREGATE_SHARDS)),
      add: { attempts_completed: 1 },
    });
    expect(adds(history)).toContainEqual({
      key: durationsKey('aws', 10),
      add: { samples: 1, sum_s: 300, [`b${bucketOf(300)}`]: 1 },
    });
    expect(countsOf(history)?.marker).toEqual(appliedKey('b-1', 'hist', change.build.version));
    // in_progress → in_progress: the live item's record moves no counter.
    expect(countsOf(live)).toBeNull();
  });

  it('counts a failure per state, a blocked build of the day, and moves the status', () => {
    const last = buildAt({
      current_state: 30,
      state_status: 'failed',
      status: 'failed',
      attempt: 2,
      max_attempts: 3,
    });
    const change = applyReport(last, { state_code: 30, status: 'failed', error: 'x' }, ctx());
    const { history, live } = recordsOf(last, change);
    const summary = summaryKey(shardOf('b-1', AGGREGATE_SHARDS));
    expect(adds(live)).toEqual([
      {
        key: summary,
        add: {
          'status:failed': -1,
          'platform:aws:failed': -1,
          'status:blocked': 1,
          'platform:aws:blocked': 1,
        },
      },
    ]);
    expect(adds(history)).toEqual(
      expect.arrayContaining([
        { key: summary, add: { 'failed_attempts:30': 1 } },
        {
          key: expect.objectContaining({ pk: expect.stringMatching(/^AGG#DAY#/) }),
          add: { builds_blocked: 1, attempts_failed: 1 },
        },
      ]),
    );
  });

  it('counts a build once, when its live item first carries its fields (a create, or a build from before live items)', () => {
    const created = {
      build: buildAt(),
      history: { ...recordsOf(null, { build: buildAt(), history: {} as never }).history },
    };
    const live = recordsOf(null, { build: created.build, history: {} as never }).live;
    const summary = summaryKey(shardOf('b-1', AGGREGATE_SHARDS));
    expect(adds(live)).toEqual([
      { key: summary, add: { builds_total: 1, 'status:pending': 1, 'platform:aws:pending': 1 } },
    ]);
    // A stub a heartbeat left (no build fields) counts nothing, and so does a heartbeat on a counted one.
    expect(
      countsOf({ eventName: 'INSERT', sequence: '3', newImage: { type: 'live', last_heartbeat_ms: 1 } }),
    ).toBeNull();
    expect(
      countsOf({
        ...live,
        eventName: 'MODIFY',
        oldImage: live.newImage,
        newImage: { ...live.newImage, last_heartbeat_ms: 5 },
      }),
    ).toBeNull();
    // A legacy build's first change: no old status was ever counted, so none is taken away.
    const legacy = buildAt({
      status: 'in_progress',
      current_state: 40,
      state_status: 'in_progress',
      attempt: 1,
      version: 7,
    });
    const change = applyReport(legacy, { state_code: 40, status: 'failed', error: 'e' }, ctx());
    const first = recordsOf(legacy, change).live;
    expect(adds({ ...first, oldImage: { type: 'live', lease_id: 'x' } })).toEqual([
      { key: summary, add: { builds_total: 1, 'status:failed': 1, 'platform:aws:failed': 1 } },
    ]);
  });

  it('sums deltas on the same item', () => {
    const key = summaryKey(0);
    expect(
      mergeDeltas([
        {
          key,
          add: new Map([
            ['a', 1],
            ['b', 1],
          ]),
          set: {},
        },
        {
          key,
          add: new Map([
            ['a', 2],
            ['b', -1],
          ]),
          set: {},
        },
      ]),
    ).toEqual([{ key, add: new Map([['a', 3]]), set: {} }]);
  });
});

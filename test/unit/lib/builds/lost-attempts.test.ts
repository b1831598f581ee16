/**
 * Takeover of a lost attempt, as a table: when a running attempt is lost (its lease ended, or it
 * was silent with none), what the next in_progress report records, and how lost attempts count:
 * not toward max_attempts, but toward their own limit of LOST_LIMIT_FACTOR × max_attempts.
 */
import { type Build, LOST_LIMIT_FACTOR, WORKER_LOST } from '../../../../lib/builds/build.model';
import { lostAttempt } from '../../../../lib/builds/lost-attempt';
import { resumeAdvice } from '../../../../lib/builds/resume';
import { applyReport, applyUnblock } from '../../../../lib/builds/transitions';
import { defaultCatalog } from '../../../../lib/catalog/state-catalog';
import { AppError } from '../../../../lib/errors';
import { buildAt, ctx, T0, T1 } from '../../../helpers/builds';

const T1_MS = Date.parse(T1); // five minutes after T0
const running = (extra: Partial<Build> = {}) =>
  buildAt({
    current_state: 25,
    state_status: 'in_progress',
    status: 'in_progress',
    attempt: 1,
    started_at: T0,
    attempt_started_at: T0,
    last_reported_at: T0,
    last_worker_id: 'vm-dead',
    version: 4,
    ...extra,
  });

describe('lostAttempt', () => {
  type Row = [string, Build, Parameters<typeof lostAttempt>[1], 'lease' | 'silence' | null];
  const leased = running({ attempt_lease_id: 'L1', lease_id: 'L1' });
  const rows: Row[] = [
    [
      'a report under the attempt’s own lease: its holder, not lost',
      leased,
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 60, claim: 'L1' },
      null,
    ],
    [
      'a report under another lease (the build’s lease was re-taken): lost',
      leased,
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 60, claim: 'L2' },
      'lease',
    ],
    [
      'a report without a lease (the transaction proves the lease expired): lost',
      leased,
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 60, claim: null },
      'lease',
    ],
    [
      'resume, the lease still live: not lost however long it ran',
      leased,
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 60, live: { lease_id: 'L1', lease_expires_ms: T1_MS + 1 } },
      null,
    ],
    [
      'resume, the lease expired: lost',
      leased,
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 3600, live: { lease_id: 'L1', lease_expires_ms: T1_MS } },
      'lease',
    ],
    [
      'resume, another lease taken since: lost',
      leased,
      {
        nowMs: T1_MS,
        heartbeatTimeoutSeconds: 3600,
        live: { lease_id: 'L2', lease_expires_ms: T1_MS + 9e6 },
      },
      'lease',
    ],
    [
      'resume, the lease released: lost',
      leased,
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 3600, live: {} },
      'lease',
    ],
    [
      'no lease, silent for the timeout: lost',
      running(),
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 300, claim: null },
      'silence',
    ],
    [
      'no lease, silent for less than the timeout: not lost',
      running(),
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 301, claim: null },
      null,
    ],
    [
      'no lease, a recent lease-less heartbeat: not lost',
      running(),
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 60, live: { unleased_heartbeat_ms: T1_MS - 59_000 } },
      null,
    ],
    [
      'no lease, a recent report: not lost',
      running({ last_reported_at: '2026-01-01T00:04:30.000Z' }),
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 60, claim: null },
      null,
    ],
    [
      'a failed attempt is not running: nothing to lose',
      running({ state_status: 'failed', status: 'failed' }),
      { nowMs: T1_MS, heartbeatTimeoutSeconds: 1, claim: null },
      null,
    ],
  ];
  it.each(rows)('%s', (_name, build, facts, by) => {
    expect(lostAttempt(build, facts)?.by ?? null).toBe(by);
  });

  it('names the worker and when it went silent, and when its lease expired', () => {
    const lost = lostAttempt(running({ attempt_lease_id: 'L1' }), {
      nowMs: T1_MS,
      heartbeatTimeoutSeconds: 60,
      live: {
        lease_id: 'L1',
        lease_worker_id: 'vm-dead',
        lease_expires_ms: T1_MS - 60_000,
        last_heartbeat_ms: T1_MS - 120_000,
      },
    });
    expect(lost).toEqual({
      state_code: 25,
      attempt: 1,
      worker_id: 'vm-dead',
      silent_since: '2026-01-01T00:03:00.000Z',
      lease_expired_at: '2026-01-01T00:04:00.000Z',
      by: 'lease',
    });
  });

  describe('once a take replaced the attempt’s lease (the taker reports next), from the signs the take kept', () => {
    const replaced = {
      prev_lease_id: 'L1',
      prev_lease_worker_id: 'vm-dead',
      prev_lease_expires_ms: T1_MS - 60_000,
      prev_lease_heartbeat_ms: T1_MS - 120_000,
    };
    const lose = (live: Parameters<typeof lostAttempt>[1]['live'], claim?: string) =>
      lostAttempt(running({ attempt_lease_id: 'L1', lease_id: 'L2', last_worker_id: 'vm-dead' }), {
        nowMs: T1_MS,
        heartbeatTimeoutSeconds: 60,
        ...(claim ? { claim } : {}),
        live: { lease_id: 'L2', lease_worker_id: 'vm-2', last_heartbeat_ms: T1_MS, ...live },
      });
    type Row = [string, Parameters<typeof lose>[0], string | undefined, Partial<ReturnType<typeof lose>>];
    const rows: Row[] = [
      [
        'the report under the taker’s lease: its last renewal, and the expiry it had',
        { ...replaced, prev_lease_ended_ms: T1_MS - 10_000 },
        'L2',
        { silent_since: '2026-01-01T00:03:00.000Z', lease_expired_at: '2026-01-01T00:04:00.000Z' },
      ],
      [
        'resume after the take: the same',
        { ...replaced, prev_lease_ended_ms: T1_MS - 10_000 },
        undefined,
        { silent_since: '2026-01-01T00:03:00.000Z', lease_expired_at: '2026-01-01T00:04:00.000Z' },
      ],
      [
        'replaced while still live (its worker restarted): not expired',
        { ...replaced, prev_lease_ended_ms: T1_MS - 61_000 },
        'L2',
        { silent_since: '2026-01-01T00:03:00.000Z', lease_expired_at: null },
      ],
      [
        'the kept signs are another lease’s: only the attempt’s own record (its start, its reports)',
        { ...replaced, prev_lease_id: 'L0', prev_lease_ended_ms: T1_MS - 10_000 },
        'L2',
        { silent_since: T0, lease_expired_at: null },
      ],
    ];
    it.each(rows)('%s', (_name, live, claim, expected) => {
      expect(lose(live, claim)).toMatchObject({ worker_id: 'vm-dead', by: 'lease', ...expected });
    });
  });
});

describe('takeover by the next in_progress report', () => {
  const report = { state_code: 25, status: 'in_progress' as const, worker_id: 'vm-2' };
  const takeover = (build: Build, leaseId: string | null = 'L2') =>
    applyReport(build, report, ctx({ leaseId, heartbeatTimeoutSeconds: 60 }));

  it('records the lost attempt failed (worker_lost) and starts the next one, in one change', () => {
    const change = takeover(running({ attempt_lease_id: 'L1', lease_id: 'L2' }));
    expect(change.earlier).toHaveLength(1);
    const lost = change.earlier![0]!;
    expect(lost).toMatchObject({
      seq: 5,
      event: 'state_reported',
      state_code: 25,
      status: 'failed',
      attempt: 1,
      error_code: WORKER_LOST,
      worker_id: 'vm-dead',
      build_status: 'failed',
      from_state_status: 'in_progress',
    });
    expect(lost.message).toMatch(
      /Attempt 1 of state 25 lost with its worker vm-dead, silent since .*; taken over by vm-2/,
    );
    expect(change.history).toMatchObject({
      seq: 6,
      status: 'in_progress',
      attempt: 2,
      worker_id: 'vm-2',
      from_state_status: 'failed',
    });
    expect(change.build).toMatchObject({
      version: 6,
      state_status: 'in_progress',
      status: 'in_progress',
      attempt: 2,
      lost_attempts: 1,
      attempt_lease_id: 'L2',
      last_worker_id: 'vm-2',
    });
    expect(change.refusal).toBeUndefined();
  });

  it('refuses a second in_progress while the attempt is alive (already_in_progress), as before', () => {
    const alive = running({ attempt_lease_id: 'L1', lease_id: 'L1' });
    expect(() => takeover(alive, 'L1')).toThrow(expect.objectContaining({ code: 'already_in_progress' }));
    const talking = running({ last_reported_at: '2026-01-01T00:04:30.000Z' });
    expect(() => takeover(talking, null)).toThrow(expect.objectContaining({ code: 'already_in_progress' }));
  });

  // max_attempts 3: failures block at 3 counted attempts; lost attempts block at 3 × LOST_LIMIT_FACTOR.
  type CountRow = [string, Partial<Build>, 'failed' | 'in_progress', string];
  const counting: CountRow[] = [
    [
      'a failure after 2 lost attempts is counted failure 1 of 3: failed',
      { state_status: 'in_progress', attempt: 3, lost_attempts: 2 },
      'failed',
      'failed',
    ],
    [
      'a failure after 1 lost and 1 failed is failure 2 of 3: failed',
      { state_status: 'in_progress', attempt: 3, lost_attempts: 1 },
      'failed',
      'failed',
    ],
    [
      'a failure after 2 failed and 3 lost is failure 3 of 3: blocked',
      { state_status: 'in_progress', attempt: 6, lost_attempts: 3 },
      'failed',
      'blocked',
    ],
    [
      'lost attempt 5 (limit 6) is taken over: in_progress',
      { attempt: 5, lost_attempts: 4 },
      'in_progress',
      'in_progress',
    ],
    ['lost attempt 6 (limit 6) blocks the build', { attempt: 6, lost_attempts: 5 }, 'in_progress', 'blocked'],
  ];
  it.each(counting)('%s', (_name, fields, status, expected) => {
    const build = running({ attempt_lease_id: 'L1', lease_id: 'L2', ...fields });
    const change = applyReport(
      build,
      { ...report, status, ...(status === 'failed' ? { error: 'boom' } : {}) },
      ctx({ leaseId: status === 'failed' ? 'L1' : 'L2', heartbeatTimeoutSeconds: 60 }),
    );
    expect(change.build.status).toBe(expected);
  });

  it('at the limit, records the loss, blocks the build and refuses the report itself', () => {
    expect(LOST_LIMIT_FACTOR).toBe(2);
    const change = takeover(
      running({ attempt: 6, lost_attempts: 5, attempt_lease_id: 'L1', lease_id: 'L2' }),
    );
    expect(change.refusal).toBeInstanceOf(AppError);
    expect(change.refusal).toMatchObject({ code: 'blocked', details: { lost_attempts: 6, lost_limit: 6 } });
    expect(change.build).toMatchObject({
      status: 'blocked',
      state_status: 'failed',
      attempt: 6,
      lost_attempts: 6,
      version: 5,
    });
    expect(change.history).toMatchObject({ seq: 5, error_code: WORKER_LOST, build_status: 'blocked' });
    expect(change.earlier).toBeUndefined();
    const advice = resumeAdvice(change.build, defaultCatalog, 3);
    expect(advice).toMatchObject({ action: 'blocked' });
    expect(advice.reason).toMatch(/lost its worker 6 times \(limit 6\)/);
    // Unblocking allows more attempts, and more losses.
    const unblocked = applyUnblock(
      change.build,
      { additional_attempts: 1, reason: 'flaky host pool' },
      ctx(),
    );
    expect(unblocked.build).toMatchObject({ status: 'failed', max_attempts: 7 });
  });

  it('resume answers retry for a lost attempt, naming the worker and since when it was silent', () => {
    const build = running({ attempt_lease_id: 'L1' });
    const lost = lostAttempt(build, { nowMs: T1_MS, heartbeatTimeoutSeconds: 60, live: {} })!;
    const advice = resumeAdvice(build, defaultCatalog, 3, lost);
    expect(advice).toMatchObject({ action: 'retry', state_code: 25, attempt: 2, lost_attempt: lost });
    expect(advice.reason).toMatch(
      /^Attempt 1 of state 25 was lost: vm-dead, silent since 2026-01-01T00:00:00.000Z; take it over/,
    );
  });
});

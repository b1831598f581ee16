import type { AttemptStatus, Build } from '../../../../lib/builds/build.model';
import { applyCancel, applyReport, applyUnblock, newBuild } from '../../../../lib/builds/transitions';
import { DEFAULT_MILESTONES, StateCatalog } from '../../../../lib/catalog/state-catalog';
import { AppError } from '../../../../lib/errors';
import { buildAt, ctx, T0, T1 } from '../../../helpers/builds';

const running = (code: number, attempt = 1, extra: Partial<Build> = {}) =>
  buildAt({
    current_state: code,
    state_status: 'in_progress',
    status: 'in_progress',
    attempt,
    started_at: T0,
    ...extra,
  });
const failedAt = (code: number, attempt = 1, extra: Partial<Build> = {}) =>
  buildAt({
    current_state: code,
    state_status: 'failed',
    status: 'failed',
    attempt,
    started_at: T0,
    ...extra,
  });
const completedAt = (code: number, extra: Partial<Build> = {}) =>
  buildAt({
    current_state: code,
    state_status: 'completed',
    status: 'in_progress',
    attempt: 1,
    last_completed_state: code,
    started_at: T0,
    ...extra,
  });

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return undefined;
}

describe('applyReport', () => {
  type Expect = Partial<
    Pick<
      Build,
      'current_state' | 'state_status' | 'status' | 'attempt' | 'max_attempts' | 'last_completed_state'
    >
  >;
  const accepted: [string, Build, number, AttemptStatus, Expect][] = [
    [
      'starts state 0 of a new build',
      buildAt(),
      0,
      'in_progress',
      { current_state: 0, state_status: 'in_progress', status: 'in_progress', attempt: 1 },
    ],
    [
      'lets a pipeline skip codes and report completed directly',
      buildAt(),
      5,
      'completed',
      {
        current_state: 5,
        state_status: 'completed',
        status: 'in_progress',
        attempt: 1,
        last_completed_state: 5,
      },
    ],
    [
      'records a first attempt that failed outright',
      buildAt(),
      10,
      'failed',
      { current_state: 10, status: 'failed', attempt: 1, last_completed_state: null },
    ],
    [
      'closes the running attempt as completed',
      running(5),
      5,
      'completed',
      { state_status: 'completed', status: 'in_progress', attempt: 1, last_completed_state: 5 },
    ],
    [
      'closes the running attempt as failed and stays at its code',
      running(5),
      5,
      'failed',
      { current_state: 5, state_status: 'failed', status: 'failed', attempt: 1 },
    ],
    [
      'starts a retry after a failure',
      failedAt(5),
      5,
      'in_progress',
      { state_status: 'in_progress', status: 'in_progress', attempt: 2 },
    ],
    [
      'counts a completed report after a failure as the next attempt',
      failedAt(5),
      5,
      'completed',
      { state_status: 'completed', attempt: 2, last_completed_state: 5 },
    ],
    [
      'blocks the build when the last allowed attempt fails',
      running(5, 3),
      5,
      'failed',
      { status: 'blocked', attempt: 3 },
    ],
    [
      'blocks the build when a direct failure uses the last attempt',
      failedAt(5, 2),
      5,
      'failed',
      { status: 'blocked', attempt: 3 },
    ],
    [
      'accepts an inserted milestone between catalog codes',
      completedAt(40),
      42,
      'in_progress',
      { current_state: 42, attempt: 1, last_completed_state: 40 },
    ],
    [
      'moves forward while an attempt is running, keeping progress',
      running(5),
      10,
      'in_progress',
      { current_state: 10, attempt: 1, last_completed_state: null },
    ],
    [
      'moves forward past a failed state',
      failedAt(25, 1, { last_completed_state: 20 }),
      30,
      'completed',
      { current_state: 30, last_completed_state: 30, attempt: 1 },
    ],
    [
      'completes the build at 100',
      completedAt(95),
      100,
      'completed',
      { status: 'completed', last_completed_state: 100 },
    ],
    [
      'keeps a running attempt at 100 in progress',
      completedAt(95),
      100,
      'in_progress',
      { status: 'in_progress', current_state: 100 },
    ],
    [
      'resets the attempt budget for a new state',
      failedAt(5, 2, { last_completed_state: 0 }),
      10,
      'in_progress',
      { attempt: 1, max_attempts: 3 },
    ],
  ];

  it.each(accepted)('%s', (_name, build, state_code, status, expected) => {
    const { build: next } = applyReport(build, { state_code, status }, ctx());
    expect(next).toMatchObject(expected);
    expect(next.version).toBe(build.version + 1);
  });

  const rejected: [string, Build, number, AttemptStatus, string][] = [
    ['rejects a rollback to an earlier state', completedAt(25), 20, 'in_progress', 'state_regression'],
    [
      'rejects a second in_progress on a running attempt whose worker is alive (it reported just now)',
      running(5, 1, { last_reported_at: T1 }),
      5,
      'in_progress',
      'already_in_progress',
    ],
    ['rejects reports on a completed state', completedAt(25), 25, 'in_progress', 'state_completed'],
    ['rejects a completed report on a completed state', completedAt(25), 25, 'completed', 'state_completed'],
    ['rejects reports while blocked', failedAt(5, 3, { status: 'blocked' }), 5, 'in_progress', 'blocked'],
    [
      'rejects forward reports while blocked',
      failedAt(5, 3, { status: 'blocked' }),
      10,
      'in_progress',
      'blocked',
    ],
    [
      'rejects reports after completion',
      completedAt(100, { status: 'completed' }),
      100,
      'completed',
      'build_completed',
    ],
    [
      'rejects reports after cancellation',
      running(5, 1, { status: 'cancelled' }),
      10,
      'in_progress',
      'build_cancelled',
    ],
  ];

  it.each(rejected)('%s', (_name, build, state_code, status, code) => {
    expect(errorCode(() => applyReport(build, { state_code, status }, ctx()))).toBe(code);
  });

  it('writes a history entry whose seq is the new version and that describes the change', () => {
    const { build, history } = applyReport(
      running(5, 1, { version: 7 }),
      { state_code: 5, status: 'failed', error: 'kickstart timeout', worker_id: 'w-a', message: 'network' },
      ctx(),
    );
    expect(history).toMatchObject({
      seq: 8,
      event: 'state_reported',
      state_code: 5,
      status: 'failed',
      attempt: 1,
      build_status: 'failed',
      from_state: 5,
      from_state_status: 'in_progress',
      from_build_status: 'in_progress',
      error: 'kickstart timeout',
      worker_id: 'w-a',
      actor: 'key:test',
      recorded_at: T1,
    });
    expect(build).toMatchObject({
      version: 8,
      last_error: 'kickstart timeout',
      last_worker_id: 'w-a',
      updated_at: T1,
    });
  });

  it('clears the last error when an attempt succeeds and stamps start and completion times', () => {
    const failed = failedAt(95, 1, { last_error: 'boom', started_at: null });
    const { build } = applyReport(failed, { state_code: 100, status: 'completed' }, ctx());
    expect(build).toMatchObject({ last_error: null, started_at: T1, completed_at: T1, status: 'completed' });
  });

  it('takes the attempt limit of a state from the catalog when it sets one', () => {
    const catalog = new StateCatalog([
      ...DEFAULT_MILESTONES.filter((m) => m.code !== 5),
      { ...DEFAULT_MILESTONES[1]!, max_attempts: 1 },
    ]);
    const { build } = applyReport(buildAt(), { state_code: 5, status: 'failed' }, ctx({ catalog }));
    expect(build).toMatchObject({ status: 'blocked', attempt: 1, max_attempts: 1 });
  });

  it('uses the configured default attempt limit elsewhere', () => {
    const { build } = applyReport(
      buildAt(),
      { state_code: 10, status: 'failed' },
      ctx({ defaultMaxAttempts: 1 }),
    );
    expect(build).toMatchObject({ status: 'blocked', max_attempts: 1 });
  });
});

describe('applyUnblock', () => {
  const blocked = failedAt(5, 3, { status: 'blocked', max_attempts: 3 });

  it('grants one more attempt by default and records the reason', () => {
    const { build, history } = applyUnblock(
      blocked,
      { reason: 'fixed mirror', additional_attempts: 1 },
      ctx(),
    );
    expect(build).toMatchObject({ status: 'failed', max_attempts: 4, attempt: 3, current_state: 5 });
    expect(history).toMatchObject({
      event: 'build_unblocked',
      reason: 'fixed mirror',
      build_status: 'failed',
      from_build_status: 'blocked',
    });
    const retry = applyReport(build, { state_code: 5, status: 'in_progress' }, ctx()).build;
    expect(retry).toMatchObject({ attempt: 4, status: 'in_progress' });
    expect(applyReport(retry, { state_code: 5, status: 'failed' }, ctx()).build.status).toBe('blocked');
  });

  it.each([
    ['a running build', running(5), 'not_blocked'],
    ['a completed build', completedAt(100, { status: 'completed' }), 'build_completed'],
    ['a cancelled build', running(5, 1, { status: 'cancelled' }), 'build_cancelled'],
  ])('rejects unblocking %s', (_name, build, code) => {
    expect(errorCode(() => applyUnblock(build, { reason: 'x', additional_attempts: 1 }, ctx()))).toBe(code);
  });
});

describe('applyCancel', () => {
  it.each([
    ['pending', buildAt()],
    ['running', running(5)],
    ['failed', failedAt(5)],
    ['blocked', failedAt(5, 3, { status: 'blocked' })],
  ])('cancels a %s build and records why', (_name, build) => {
    const { build: next, history } = applyCancel(build, { reason: 'superseded' }, ctx());
    expect(next).toMatchObject({ status: 'cancelled', cancelled_at: T1, current_state: build.current_state });
    expect(history).toMatchObject({ event: 'build_cancelled', reason: 'superseded', seq: build.version + 1 });
  });

  it.each([
    ['completed', completedAt(100, { status: 'completed' }), 'build_completed'],
    ['cancelled', running(5, 1, { status: 'cancelled' }), 'build_cancelled'],
  ])('rejects cancelling a %s build', (_name, build, code) => {
    expect(errorCode(() => applyCancel(build, { reason: 'x' }, ctx()))).toBe(code);
  });
});

describe('newBuild', () => {
  it('starts at state 0, pending, version 1, with a build_created history entry at seq 1', () => {
    const { build, history } = newBuild(
      'b-9',
      { project_id: 'default', platform_id: 'aws', image_type_id: 'rhel9', metadata: { packer: '1.9' } },
      ctx({ now: T0 }),
    );
    expect(build).toMatchObject({
      id: 'b-9',
      current_state: 0,
      status: 'pending',
      version: 1,
      attempt: 0,
      state_status: null,
      max_attempts: 3,
      created_at: T0,
    });
    expect(history).toMatchObject({
      seq: 1,
      event: 'build_created',
      build_status: 'pending',
      from_build_status: null,
    });
  });
});

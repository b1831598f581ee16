/**
 * The state rules, as pure functions of (build, request, context) → change or AppError.
 * Read top to bottom: terminal and blocked builds first, then direction, then the rules
 * for a report on the build's current state code.
 */

import { FINAL_STATE_CODE, type StateCatalog } from '../catalog/state-catalog';
import { canonicalDecimal } from '../cost/money';
import { addEntryCost, entryCost, type PlatformRate, rateFor } from '../cost/pricing';
import { AppError } from '../errors';
import {
  type AttemptStatus,
  type Build,
  type BuildStatus,
  type Change,
  COUNTED_BY_STREAM,
  type HistoryEntry,
  LOST_LIMIT_FACTOR,
  WORKER_LOST,
} from './build.model';
import type {
  CancelInput,
  CreateBuildInput,
  ForkChildInput,
  StateReportInput,
  UnblockInput,
} from './build.schema';
import { describeLoss, type LiveSigns, type LostAttempt, lostAttempt } from './lost-attempt';

export interface RuleContext {
  catalog: StateCatalog;
  /** Attempt limit for states whose catalog entry sets none. */
  defaultMaxAttempts: number;
  now: string;
  actor: string;
  /** For a state report: the X-Lease-Id it carries (null: none); the report's transaction checks it. */
  leaseId?: string | null;
  /** The stuck detector's silence rule, which decides when a lease-less attempt is lost. */
  heartbeatTimeoutSeconds?: number;
  /** The live item's signs of life, when the caller read them (a possible takeover). */
  live?: LiveSigns;
  /** The build's platform's price now (null: the caller read none); lib/cost/pricing.ts. */
  rate?: PlatformRate | null;
}

/** BUILDSTATE_HEARTBEAT_TIMEOUT_S's default, for callers that set none. */
export const DEFAULT_HEARTBEAT_TIMEOUT_S = 300;

/** Failed attempts that count toward max_attempts: lost ones have their own limit (LOST_LIMIT_FACTOR). */
export const countedAttempts = (build: Pick<Build, 'attempt' | 'lost_attempts'>): number =>
  build.attempt - (build.lost_attempts ?? 0);

/** How many lost attempts block the build at its current state. */
export const lostLimit = (build: Pick<Build, 'max_attempts'>): number =>
  LOST_LIMIT_FACTOR * build.max_attempts;

export function newBuild(id: string, input: CreateBuildInput, ctx: RuleContext): Change {
  const build: Build = {
    id,
    project_id: input.project_id,
    platform_id: input.platform_id,
    os_version_id: input.os_version_id ?? null,
    image_type_id: input.image_type_id,
    build_number: input.build_number ?? null,
    description: input.description ?? null,
    metadata: input.metadata,
    current_state: 0,
    state_status: null,
    status: 'pending',
    attempt: 0,
    max_attempts: ctx.catalog.maxAttemptsFor(0, ctx.defaultMaxAttempts),
    last_completed_state: null,
    completed_states: [],
    last_worker_id: null,
    last_error: null,
    attempt_started_at: null,
    error_streak: 0,
    streak_error: null,
    version: 1,
    created_by: ctx.actor,
    created_at: ctx.now,
    updated_at: ctx.now,
    started_at: null,
    completed_at: null,
    cancelled_at: null,
    lease_id: null,
    ...(input.base_build_id ? { base_build_id: input.base_build_id } : {}),
  };
  return { build, history: entry(null, build, ctx, { event: 'build_created' }) };
}

/**
 * A child of a fork: it starts where the parent was at `atState`, with the parent's completed
 * states up to and including it as its own, so its next step is the milestone after `atState`.
 * The caller has checked that the parent completed `atState` (a completed state stays completed,
 * so that check cannot be undone by a later report on the parent).
 */
export function forkChild(
  parent: Build,
  id: string,
  forkId: string,
  atState: number,
  input: ForkChildInput,
  ctx: RuleContext,
): Change {
  const build: Build = {
    id,
    project_id: parent.project_id,
    platform_id: input.platform_id,
    os_version_id: input.os_version_id === undefined ? parent.os_version_id : input.os_version_id,
    image_type_id: input.image_type_id ?? parent.image_type_id,
    build_number: input.build_number ?? null,
    description: input.description ?? null,
    metadata: input.metadata,
    current_state: atState,
    state_status: 'completed',
    status: 'in_progress',
    attempt: 0,
    max_attempts: ctx.catalog.maxAttemptsFor(atState, ctx.defaultMaxAttempts),
    last_completed_state: atState,
    completed_states: parent.completed_states.filter((code) => code <= atState),
    last_worker_id: null,
    last_error: null,
    attempt_started_at: null,
    error_streak: 0,
    streak_error: null,
    version: 1,
    created_by: ctx.actor,
    created_at: ctx.now,
    updated_at: ctx.now,
    started_at: ctx.now,
    completed_at: null,
    cancelled_at: null,
    parent_id: parent.id,
    forked_at_state: atState,
    fork_id: forkId,
    lease_id: null,
  };
  // The parent's measured work up to the fork is work the child does not redo.
  build.work_s = Object.fromEntries(
    Object.entries(parent.work_s ?? {}).filter(([c]) => Number(c) <= atState),
  );
  build.work_avoided_s = measuredWorkBefore(build, atState + 1);
  // The parent's work the child does not redo, priced at the child's platform rate.
  const cost = entryCost(rateFor(null, ctx.rate), 0, build.work_avoided_s, false);
  const costs = addEntryCost(undefined, atState, cost);
  if (costs) build.cost = costs;
  return {
    build,
    history: entry(null, build, ctx, {
      event: 'forked',
      status: 'completed',
      parent_version: parent.version,
      metadata: { parent_id: parent.id, parent_version: parent.version, at_state: atState },
      ...(build.work_avoided_s ? { work_avoided_s: build.work_avoided_s } : {}),
      ...(cost ? { cost } : {}),
      message: `Forked from build '${parent.id}' (version ${parent.version}) at state ${atState}`,
    }),
  };
}

/** Rejects any change to a build that has finished or was cancelled. */
function assertOpen(build: Build): void {
  if (build.status === 'completed') {
    throw new AppError('build_completed', `Build '${build.id}' is completed; it accepts no further reports`, {
      build_id: build.id,
    });
  }
  if (build.status === 'cancelled') {
    throw new AppError(
      'build_cancelled',
      `Build '${build.id}' was cancelled; it accepts no further reports`,
      {
        build_id: build.id,
      },
    );
  }
}

export function applyReport(build: Build, report: StateReportInput, ctx: RuleContext): Change {
  assertOpen(build);
  const code = report.state_code;
  const where = { build_id: build.id, current_state: build.current_state, state_status: build.state_status };

  if (build.status === 'blocked') {
    throw new AppError(
      'blocked',
      `Build is blocked after ${build.attempt} failed attempts of state ${build.current_state}; POST /builds/${build.id}/unblock to allow another attempt`,
      { ...where, attempt: build.attempt, max_attempts: build.max_attempts },
    );
  }
  if (code < build.current_state) {
    throw new AppError(
      'state_regression',
      `State ${code} is before the build's current state ${build.current_state}; builds never move backwards`,
      { ...where, state_code: code },
    );
  }

  if (report.error_code && report.status !== 'failed') {
    throw new AppError('validation_error', `error_code '${report.error_code}' goes with status failed only`, {
      ...where,
      status: report.status,
      error_code: report.error_code,
    });
  }

  let attempt: number;
  let maxAttempts: number;
  if (code > build.current_state || build.state_status === null) {
    // A new state (codes may be skipped): its first attempt, with the given status.
    attempt = 1;
    maxAttempts = ctx.catalog.maxAttemptsFor(code, ctx.defaultMaxAttempts);
  } else if (build.state_status === 'completed') {
    throw new AppError('state_completed', `State ${code} is already completed; report the next state`, {
      ...where,
      state_code: code,
    });
  } else if (build.state_status === 'in_progress') {
    if (report.status === 'in_progress') {
      const lost = lostAttempt(build, {
        nowMs: Date.parse(ctx.now),
        heartbeatTimeoutSeconds: ctx.heartbeatTimeoutSeconds ?? DEFAULT_HEARTBEAT_TIMEOUT_S,
        claim: ctx.leaseId ?? null,
        live: ctx.live,
      });
      if (lost) return takeOver(build, report, ctx, lost);
      throw new AppError(
        'already_in_progress',
        `State ${code} already has attempt ${build.attempt} in progress`,
        {
          ...where,
          state_code: code,
          attempt: build.attempt,
        },
      );
    }
    // completed/failed closes the running attempt.
    attempt = build.attempt;
    maxAttempts = build.max_attempts;
  } else {
    // After a failure any report is the next attempt: in_progress starts it, completed/failed report it whole.
    attempt = build.attempt + 1;
    maxAttempts = build.max_attempts;
  }

  const newState = code !== build.current_state || build.state_status === null;
  const lostAttempts = newState ? 0 : (build.lost_attempts ?? 0);
  // An interrupted attempt is recorded (its own attempt number, history stays append-only) but
  // does not use up the allowance: max_attempts grows with it, so it can never block the build.
  const interrupted = report.status === 'failed' && report.error_code === 'interrupted';
  if (interrupted) maxAttempts += 1;
  // Lost attempts (worker_lost) are not failures of the step either: they have their own limit.
  const failedOut = report.status === 'failed' && !interrupted && attempt - lostAttempts >= maxAttempts;
  const error = report.status === 'failed' ? (report.error ?? report.message ?? null) : null;
  const sameAttempt = attempt === build.attempt && code === build.current_state;
  // A retry's in_progress report keeps the streak; the next failure extends it if its error is the same.
  const sameState = code === build.current_state && (build.error_streak ?? 0) > 0;
  // An interruption says nothing about the step: the streak of same-error failures is kept as it was.
  const streak = interrupted
    ? code === build.current_state
      ? (build.error_streak ?? 0)
      : 0
    : report.status === 'failed'
      ? sameState && error === (build.streak_error ?? null)
        ? (build.error_streak ?? 0) + 1
        : 1
      : report.status === 'in_progress' && sameState
        ? (build.error_streak ?? 0)
        : 0;
  const status: BuildStatus =
    report.status === 'completed' && code === FINAL_STATE_CODE
      ? 'completed'
      : report.status === 'failed'
        ? failedOut
          ? 'blocked'
          : 'failed'
        : 'in_progress';

  const next: Build = {
    ...build,
    current_state: code,
    state_status: report.status,
    status,
    attempt,
    max_attempts: maxAttempts,
    last_completed_state: report.status === 'completed' ? code : build.last_completed_state,
    completed_states:
      report.status === 'completed' ? [...(build.completed_states ?? []), code] : build.completed_states,
    last_worker_id: report.worker_id ?? build.last_worker_id,
    last_error: error,
    last_error_code: report.status === 'failed' ? (report.error_code ?? null) : null,
    attempt_started_at:
      report.status === 'in_progress' ? ctx.now : sameAttempt ? (build.attempt_started_at ?? null) : null,
    error_streak: streak,
    streak_error:
      streak > 0 ? (report.status === 'failed' && !interrupted ? error : (build.streak_error ?? null)) : null,
    attempt_lease_id:
      report.status === 'in_progress'
        ? (ctx.leaseId ?? null)
        : sameAttempt
          ? (build.attempt_lease_id ?? null)
          : null,
    lost_attempts: lostAttempts,
    version: build.version + 1,
    updated_at: ctx.now,
    started_at: build.started_at ?? ctx.now,
    completed_at: status === 'completed' ? ctx.now : null,
    last_reported_at: ctx.now,
    // The worker's own rate, kept for the attempt this report starts; the closing report may give another.
    attempt_hourly_cost:
      report.status === 'in_progress'
        ? report.hourly_cost !== undefined
          ? canonicalDecimal(report.hourly_cost)
          : ctx.leaseId && ctx.leaseId === build.lease_id
            ? (build.lease_hourly_cost ?? null)
            : null
        : null,
  };
  const duration = attemptDuration(build, next, report.status, ctx.now);
  if (duration.duration_s !== undefined)
    next.work_s = { ...(build.work_s ?? {}), [String(code)]: Math.round(duration.duration_s) };
  // The first report of a retry after a failure: the measured work completed before this state
  // is work the retry does not redo (it resumed instead of starting over).
  const avoided =
    build.state_status === 'failed' && code === build.current_state ? measuredWorkBefore(build, code) : 0;
  if (avoided > 0) next.work_avoided_s = (build.work_avoided_s ?? 0) + avoided;
  // Price the attempt this report closes (it ran under this build's running attempt) and the work
  // it avoided: the closing report's own rate, else the one its in_progress report gave, else the platform's.
  const closes = report.status !== 'in_progress' && sameAttempt && !!build.attempt_started_at;
  const workerRate =
    report.hourly_cost !== undefined
      ? canonicalDecimal(report.hourly_cost)
      : closes
        ? (build.attempt_hourly_cost ?? null)
        : null;
  const cost = entryCost(
    rateFor(workerRate, ctx.rate),
    closes ? secondsBetween(build.attempt_started_at!, ctx.now) : 0,
    avoided,
    report.status === 'failed',
  );
  const costs = addEntryCost(build.cost, code, cost);
  if (costs) next.cost = costs;
  return {
    build: next,
    history: entry(build, next, ctx, {
      event: 'state_reported',
      status: report.status,
      message: report.message ?? null,
      error: report.error ?? null,
      worker_id: report.worker_id ?? null,
      ...(report.status === 'failed' && !interrupted ? { error_streak: next.error_streak } : {}),
      ...(report.error_code ? { error_code: report.error_code } : {}),
      ...duration,
      ...(avoided > 0 ? { work_avoided_s: avoided } : {}),
      ...(cost ? { cost } : {}),
      metadata: report.metadata ?? null,
    }),
  };
}

/**
 * The next in_progress report of a state whose running attempt is lost: the lost attempt is
 * recorded `failed` with error_code `worker_lost` (its own history entry), then the report starts
 * the next attempt; both in one change, so one transaction. Two workers taking over at once race
 * on the build's version: one commits, the other then finds the new attempt running. The takeover
 * that reaches the lost-attempt limit records the loss, blocks the build, and is itself refused.
 */
function takeOver(build: Build, report: StateReportInput, ctx: RuleContext, lost: LostAttempt): Change {
  const lostCount = (build.lost_attempts ?? 0) + 1;
  const limit = lostLimit(build);
  const blocked = lostCount >= limit;
  const by = report.worker_id ?? ctx.actor;
  const error = `worker lost: ${describeLoss(lost)}`;
  const streak =
    (build.error_streak ?? 0) > 0 && build.streak_error === WORKER_LOST ? (build.error_streak ?? 0) + 1 : 1;
  // A takeover without a new lease ends the dead worker's expired one (the live item's part does
  // the same, lib/builds/build.service.ts), so nothing it sends later is accepted under it.
  const endsLease =
    !!build.lease_id && build.lease_id === build.attempt_lease_id && ctx.leaseId !== build.lease_id;
  // The lost attempt ran, and was paid for, until its worker's last sign of life.
  const lostCost = build.attempt_started_at
    ? entryCost(
        rateFor(build.attempt_hourly_cost, ctx.rate),
        secondsBetween(build.attempt_started_at, lost.silent_since),
        0,
        true,
      )
    : null;
  const lostCosts = addEntryCost(build.cost, build.current_state, lostCost);
  const failed: Build = {
    ...build,
    ...(lostCosts ? { cost: lostCosts } : {}),
    attempt_hourly_cost: null,
    ...(endsLease ? { lease_id: null } : {}),
    state_status: 'failed',
    status: blocked ? 'blocked' : 'failed',
    last_error: error,
    attempt_started_at: null,
    attempt_lease_id: null,
    lost_attempts: lostCount,
    error_streak: streak,
    streak_error: WORKER_LOST,
    version: build.version + 1,
    updated_at: ctx.now,
  };
  const lostEntry = entry(build, failed, ctx, {
    event: 'state_reported',
    status: 'failed',
    error,
    error_code: WORKER_LOST,
    error_streak: streak,
    worker_id: lost.worker_id,
    ...(lostCost ? { cost: lostCost } : {}),
    message: `Attempt ${lost.attempt} of state ${lost.state_code} lost with its worker ${describeLoss(lost)}; ${
      blocked
        ? `that is ${lostCount} lost attempts (limit ${limit}): the build is blocked`
        : `taken over by ${by}`
    }`,
    metadata: { lost_attempt: { ...lost, lost_attempts: lostCount, lost_limit: limit, taken_over_by: by } },
  });
  if (blocked)
    return {
      build: failed,
      history: lostEntry,
      refusal: new AppError(
        'blocked',
        `State ${lost.state_code} lost its worker ${lostCount} times (limit ${limit}); the build is blocked: POST /builds/${build.id}/unblock to allow another attempt`,
        {
          build_id: build.id,
          state_code: lost.state_code,
          lost_attempts: lostCount,
          lost_limit: limit,
          lost_attempt: lost,
        },
      ),
    };
  const next = applyReport(failed, report, { ...ctx, live: undefined });
  return { ...next, earlier: [lostEntry, ...(next.earlier ?? [])] };
}

export function applyUnblock(build: Build, input: UnblockInput, ctx: RuleContext): Change {
  assertOpen(build);
  if (build.status !== 'blocked') {
    throw new AppError('not_blocked', `Build '${build.id}' is not blocked (status ${build.status})`, {
      build_id: build.id,
      status: build.status,
    });
  }
  const next: Build = {
    ...build,
    status: 'failed',
    max_attempts: build.attempt + input.additional_attempts,
    version: build.version + 1,
    updated_at: ctx.now,
  };
  return {
    build: next,
    history: entry(build, next, ctx, { event: 'build_unblocked', reason: input.reason }),
  };
}

export function applyCancel(build: Build, input: CancelInput, ctx: RuleContext): Change {
  assertOpen(build);
  const next: Build = {
    ...build,
    status: 'cancelled',
    version: build.version + 1,
    updated_at: ctx.now,
    cancelled_at: ctx.now,
  };
  return {
    build: next,
    history: entry(build, next, ctx, { event: 'build_cancelled', reason: input.reason }),
  };
}

/** What `artifact_unverified` records: which artifact, and why it no longer counts as verified. */
export interface ArtifactUnverifiedInput {
  state_code: number;
  name: string;
  reason: string;
  details: Record<string, unknown>;
}

/**
 * A verified artifact whose bytes changed (or whose re-verification failed) is unverified again;
 * the build records it in its history and nothing else about the build changes. Allowed in any
 * build status: finished builds' artifacts are handed out too.
 */
export function applyArtifactUnverified(
  build: Build,
  input: ArtifactUnverifiedInput,
  ctx: RuleContext,
): Change {
  const next: Build = { ...build, version: build.version + 1, updated_at: ctx.now };
  return {
    build: next,
    history: entry(build, next, ctx, {
      event: 'artifact_unverified',
      status: build.state_status,
      from_state_status: build.state_status,
      message: `Artifact '${input.name}' of state ${input.state_code} is no longer verified: ${input.reason}`,
      reason: input.reason,
      metadata: { artifact: { state_code: input.state_code, name: input.name }, ...input.details },
    }),
  };
}

/**
 * The seconds a completed attempt ran, from its in_progress report to `completed`, carried on the
 * history item so the durations histogram can be kept from the change stream alone. Absent when
 * the attempt never reported in_progress.
 */
/** Seconds measured for the completed states before `code` (states that never reported in_progress count 0). */
export function measuredWorkBefore(build: Build, code: number): number {
  return Object.entries(build.work_s ?? {})
    .filter(([c]) => Number(c) < code)
    .reduce((total, [, s]) => total + s, 0);
}

/** Seconds from `from` to `to` (ISO timestamps), never negative. */
function secondsBetween(from: string, to: string): number {
  return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

function attemptDuration(
  before: Build,
  after: Build,
  status: AttemptStatus,
  now: string,
): { duration_s?: number } {
  const started = before.attempt_started_at;
  if (status !== 'completed' || !started) return {};
  if (before.current_state !== after.current_state || before.attempt !== after.attempt) return {};
  return { duration_s: Math.max(0, (Date.parse(now) - Date.parse(started)) / 1000) };
}

function entry(
  before: Build | null,
  after: Build,
  ctx: RuleContext,
  fields: Partial<HistoryEntry> & Pick<HistoryEntry, 'event'>,
): HistoryEntry {
  return {
    build_id: after.id,
    project_id: after.project_id,
    platform_id: after.platform_id,
    image_type_id: after.image_type_id,
    ...(after.parent_id ? { parent_id: after.parent_id } : {}),
    seq: after.version,
    counted_by: COUNTED_BY_STREAM,
    state_code: after.current_state,
    status: null as AttemptStatus | null,
    attempt: after.attempt,
    build_status: after.status,
    from_state: before?.current_state ?? after.current_state,
    from_state_status: before?.state_status ?? null,
    from_build_status: before?.status ?? null,
    message: null,
    error: null,
    reason: null,
    worker_id: null,
    metadata: null,
    actor: ctx.actor,
    recorded_at: ctx.now,
    ...fields,
  };
}

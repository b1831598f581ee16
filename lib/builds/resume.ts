import type { StateCatalog } from '../catalog/state-catalog';
import type { Build } from './build.model';
import { describeLoss, type LostAttempt } from './lost-attempt';
import { countedAttempts, lostLimit } from './transitions';

export type ResumeAction = 'start' | 'continue' | 'retry' | 'wait' | 'blocked' | 'done' | 'cancelled';

export interface ResumeAdvice {
  build_id: string;
  action: ResumeAction;
  /** The state the worker should run next (or is waiting on / blocked at). */
  state_code: number | null;
  state_name: string | null;
  last_completed_state: number | null;
  /** For start/continue/retry: the attempt number the worker is about to make; otherwise the latest attempt. */
  attempt: number;
  max_attempts: number;
  reason: string;
  /** With `retry` of an attempt whose worker died: that attempt, which the next in_progress report records failed (worker_lost). */
  lost_attempt?: LostAttempt;
}

/**
 * What any worker in the pool should do next with this build. Pure: it reads the build and, for a
 * running attempt, whether it is lost (`lostAttempt`, from the build and its live item).
 */
export function resumeAdvice(
  build: Build,
  catalog: StateCatalog,
  defaultMaxAttempts: number,
  lost: LostAttempt | null = null,
): ResumeAdvice {
  const base = { build_id: build.id, last_completed_state: build.last_completed_state };
  const at = (
    action: ResumeAction,
    code: number | null,
    attempt: number,
    maxAttempts: number,
    reason: string,
  ) => ({
    ...base,
    action,
    state_code: code,
    state_name: code === null ? null : catalog.nameOf(code),
    attempt,
    max_attempts: maxAttempts,
    reason,
  });
  const cur = build.current_state;

  switch (build.status) {
    case 'cancelled':
      return at(
        'cancelled',
        cur,
        build.attempt,
        build.max_attempts,
        'The build was cancelled; nothing more to run',
      );
    case 'completed':
      return at('done', cur, build.attempt, build.max_attempts, 'The build is complete and delivered');
    case 'blocked':
      return at(
        'blocked',
        cur,
        build.attempt,
        build.max_attempts,
        (build.lost_attempts ?? 0) >= lostLimit(build)
          ? `State ${cur} lost its worker ${build.lost_attempts} times (limit ${lostLimit(build)}); unblock the build to retry`
          : `State ${cur} failed ${countedAttempts(build)} of ${build.max_attempts} allowed attempts; unblock the build to retry`,
      );
  }

  switch (build.state_status) {
    case null:
      return at('start', cur, 1, build.max_attempts, 'Nothing has run yet; start from the beginning');
    case 'in_progress':
      if (lost)
        return {
          ...at(
            'retry',
            cur,
            build.attempt + 1,
            build.max_attempts,
            `Attempt ${build.attempt} of state ${cur} was lost: ${describeLoss(lost)}; take it over (the next in_progress report records it failed, worker_lost)`,
          ),
          lost_attempt: lost,
        };
      return at(
        'wait',
        cur,
        build.attempt,
        build.max_attempts,
        `Attempt ${build.attempt} of state ${cur} is in progress${build.last_worker_id ? ` on ${build.last_worker_id}` : ''}`,
      );
    case 'failed':
      return at(
        'retry',
        cur,
        build.attempt + 1,
        build.max_attempts,
        `State ${cur} failed on attempt ${build.attempt}; ${build.max_attempts - countedAttempts(build)} attempt(s) left`,
      );
    case 'completed': {
      const next = catalog.nextAfter(cur);
      if (next === null)
        return at('done', cur, build.attempt, build.max_attempts, 'Every milestone is completed');
      return at(
        'continue',
        next,
        1,
        catalog.maxAttemptsFor(next, defaultMaxAttempts),
        `State ${cur} is completed; continue with state ${next}`,
      );
    }
  }
}

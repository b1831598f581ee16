import type { StateCatalog } from '../catalog/state-catalog';
import type { Build } from './build.model';

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
}

/** What any worker in the pool should do next with this build. Pure: it reads only the build. */
export function resumeAdvice(build: Build, catalog: StateCatalog, defaultMaxAttempts: number): ResumeAdvice {
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
        `State ${cur} failed ${build.attempt} of ${build.max_attempts} allowed attempts; unblock the build to retry`,
      );
  }

  switch (build.state_status) {
    case null:
      return at('start', cur, 1, build.max_attempts, 'Nothing has run yet; start from the beginning');
    case 'in_progress':
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
        build.last_error_code === 'interrupted'
          ? `Attempt ${build.attempt} of state ${cur} was interrupted (not counted); ${build.max_attempts - build.attempt} attempt(s) left`
          : `State ${cur} failed on attempt ${build.attempt}; ${build.max_attempts - build.attempt} attempt(s) left`,
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

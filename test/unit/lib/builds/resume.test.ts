import type { Build } from '../../../../lib/builds/build.model';
import { type ResumeAction, resumeAdvice } from '../../../../lib/builds/resume';
import { defaultCatalog } from '../../../../lib/catalog/state-catalog';
import { buildAt } from '../../../helpers/builds';

describe('resumeAdvice', () => {
  const cases: [string, Partial<Build>, ResumeAction, number | null, number][] = [
    ['start for a build where nothing ran', {}, 'start', 0, 1],
    [
      'wait while an attempt runs',
      { current_state: 25, state_status: 'in_progress', status: 'in_progress', attempt: 2 },
      'wait',
      25,
      2,
    ],
    [
      'retry the failed code with the next attempt number',
      { current_state: 50, state_status: 'failed', status: 'failed', attempt: 1, last_completed_state: 25 },
      'retry',
      50,
      2,
    ],
    [
      'continue with the next catalog milestone',
      {
        current_state: 25,
        state_status: 'completed',
        status: 'in_progress',
        attempt: 1,
        last_completed_state: 25,
      },
      'continue',
      30,
      1,
    ],
    [
      'continue after an inserted code with the next catalog milestone',
      {
        current_state: 42,
        state_status: 'completed',
        status: 'in_progress',
        attempt: 1,
        last_completed_state: 42,
      },
      'continue',
      45,
      1,
    ],
    [
      'report blocked builds as blocked',
      { current_state: 5, state_status: 'failed', status: 'blocked', attempt: 3 },
      'blocked',
      5,
      3,
    ],
    [
      'report completed builds as done',
      {
        current_state: 100,
        state_status: 'completed',
        status: 'completed',
        attempt: 1,
        last_completed_state: 100,
      },
      'done',
      100,
      1,
    ],
    [
      'report cancelled builds as cancelled',
      { current_state: 10, state_status: 'in_progress', status: 'cancelled', attempt: 1 },
      'cancelled',
      10,
      1,
    ],
  ];

  it.each(cases)('%s', (_name, fields, action, stateCode, attempt) => {
    const advice = resumeAdvice(buildAt(fields), defaultCatalog, 3);
    expect(advice).toMatchObject({ build_id: 'b-1', action, state_code: stateCode, attempt });
    expect(advice.reason.length).toBeGreaterThan(0);
  });

  it('names the state to run and reports the last completed state', () => {
    const advice = resumeAdvice(
      buildAt({
        current_state: 50,
        state_status: 'failed',
        status: 'failed',
        attempt: 2,
        last_completed_state: 25,
      }),
      defaultCatalog,
      3,
    );
    expect(advice).toEqual({
      build_id: 'b-1',
      action: 'retry',
      state_code: 50,
      state_name: 'User management and authentication',
      last_completed_state: 25,
      attempt: 3,
      max_attempts: 3,
      reason: 'State 50 failed on attempt 2; 1 attempt(s) left',
    });
  });

  it('says an interrupted attempt was not counted', () => {
    const advice = resumeAdvice(
      buildAt({
        current_state: 25,
        state_status: 'failed',
        status: 'failed',
        attempt: 3,
        max_attempts: 4,
        last_error_code: 'interrupted',
      }),
      defaultCatalog,
      3,
    );
    expect(advice).toMatchObject({ action: 'retry', state_code: 25, attempt: 4, max_attempts: 4 });
    expect(advice.reason).toBe('Attempt 3 of state 25 was interrupted (not counted); 1 attempt(s) left');
  });
});

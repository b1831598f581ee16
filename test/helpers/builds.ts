import type { Build } from '../../lib/builds/build.model';
import type { RuleContext } from '../../lib/builds/transitions';
import { defaultCatalog } from '../../lib/catalog/state-catalog';

export const T0 = '2026-01-01T00:00:00.000Z';
export const T1 = '2026-01-01T00:05:00.000Z';

export const ctx = (overrides: Partial<RuleContext> = {}): RuleContext => ({
  catalog: defaultCatalog,
  defaultMaxAttempts: 3,
  now: T1,
  actor: 'key:test',
  ...overrides,
});

/** A build at some point of its life; defaults to a new pending build. */
export function buildAt(fields: Partial<Build> = {}): Build {
  return {
    id: 'b-1',
    project_id: 'default',
    platform_id: 'aws',
    os_version_id: null,
    image_type_id: 'rhel9',
    build_number: null,
    description: null,
    metadata: {},
    current_state: 0,
    state_status: null,
    status: 'pending',
    attempt: 0,
    max_attempts: 3,
    last_completed_state: null,
    completed_states: [],
    last_worker_id: null,
    last_error: null,
    version: 1,
    created_by: 'key:test',
    created_at: T0,
    updated_at: T0,
    started_at: null,
    completed_at: null,
    cancelled_at: null,
    ...fields,
  };
}

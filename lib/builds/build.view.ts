import type { StateCatalog } from '../catalog/state-catalog';
import type { Build, HistoryEntry } from './build.model';

/** The public representation of a build: the stored fields plus derived ones. */
export function buildView(build: Build, catalog: StateCatalog) {
  return {
    id: build.id,
    project_id: build.project_id,
    platform_id: build.platform_id,
    os_version_id: build.os_version_id,
    image_type_id: build.image_type_id,
    build_number: build.build_number,
    description: build.description,
    metadata: build.metadata,
    current_state: build.current_state,
    state_name: catalog.nameOf(build.current_state),
    state_status: build.state_status,
    status: build.status,
    attempt: build.attempt,
    max_attempts: build.max_attempts,
    last_completed_state: build.last_completed_state,
    progress_percent: build.last_completed_state ?? 0,
    last_worker_id: build.last_worker_id,
    last_error: build.last_error,
    version: build.version,
    created_by: build.created_by,
    created_at: build.created_at,
    updated_at: build.updated_at,
    started_at: build.started_at,
    completed_at: build.completed_at,
    cancelled_at: build.cancelled_at,
  };
}
export type BuildView = ReturnType<typeof buildView>;

/** One history entry, fields in a fixed order (DynamoDB returns map attributes unordered). */
export function historyView(entry: HistoryEntry, catalog: StateCatalog) {
  return {
    build_id: entry.build_id,
    seq: entry.seq,
    event: entry.event,
    state_code: entry.state_code,
    state_name: catalog.nameOf(entry.state_code),
    status: entry.status,
    attempt: entry.attempt,
    build_status: entry.build_status,
    from_state: entry.from_state,
    from_state_status: entry.from_state_status,
    from_build_status: entry.from_build_status,
    message: entry.message,
    error: entry.error,
    reason: entry.reason,
    worker_id: entry.worker_id,
    metadata: entry.metadata,
    actor: entry.actor,
    recorded_at: entry.recorded_at,
  };
}
export type HistoryView = ReturnType<typeof historyView>;

/**
 * When is a running attempt stuck? Pure rules over a live item, the clock and a yardstick:
 *   silent  – no heartbeat or report for heartbeatTimeoutSeconds;
 *   overdue – running longer than overdueFactor × the yardstick, which is the p95 of that state on
 *             that platform once it has overdueMinSamples completed attempts, else the catalog's
 *             expected_duration_s (no yardstick, no overdue).
 */
import { type LiveItem, lastSignOfLifeMs } from '../builds/live.item';

export type StuckKind = 'silent' | 'overdue';

export interface StuckPolicy {
  heartbeatTimeoutSeconds: number;
  overdueFactor: number;
}

export interface Yardstick {
  seconds: number;
  source: 'p95' | 'expected_duration_s';
}

export interface StuckAttempt {
  build_id: string;
  project_id: string;
  platform_id: string;
  image_type_id: string;
  state_code: number;
  attempt: number;
  kinds: StuckKind[];
  attempt_started_at: string;
  last_heartbeat_at: string;
  running_s: number;
  silent_s: number;
  overdue_after_s: number | null;
  yardstick: Yardstick | null;
  lease_worker_id: string | null;
  last_worker_id: string | null;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The stuck verdict for one live item; null when it is fine or is not a running attempt. */
export function stuckAttempt(
  live: LiveItem,
  nowMs: number,
  policy: StuckPolicy,
  yardstick: Yardstick | null,
): StuckAttempt | null {
  if (live.state_status !== 'in_progress' || !live.attempt_started_at) return null;
  const startedMs = Date.parse(live.attempt_started_at);
  const lastSignMs = Math.max(lastSignOfLifeMs(live), startedMs);
  const running = seconds(nowMs - startedMs);
  const silent = seconds(nowMs - lastSignMs);
  const overdueAfter = yardstick ? Math.ceil(yardstick.seconds * policy.overdueFactor) : null;
  const kinds: StuckKind[] = [];
  if (silent >= policy.heartbeatTimeoutSeconds) kinds.push('silent');
  if (overdueAfter !== null && running > overdueAfter) kinds.push('overdue');
  if (kinds.length === 0) return null;
  return {
    build_id: live.build_id,
    project_id: live.project_id,
    platform_id: live.platform_id,
    image_type_id: live.image_type_id,
    state_code: live.current_state,
    attempt: live.attempt,
    kinds,
    attempt_started_at: live.attempt_started_at,
    last_heartbeat_at: new Date(lastSignMs).toISOString(),
    running_s: running,
    silent_s: silent,
    overdue_after_s: overdueAfter,
    yardstick,
    lease_worker_id: live.lease_worker_id ?? null,
    last_worker_id: live.last_worker_id ?? null,
  };
}

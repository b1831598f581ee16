/**
 * When is a running attempt lost (its worker dead: a killed process, a lost VM, a reclaimed spot
 * instance)? A pure rule over the build, the clock and, where known, the live item's signs of life:
 *   - an attempt that reported in_progress under a lease is lost once that lease is no longer live
 *     (expired without a renewal, released, or replaced by another take, which needs one of those
 *     or the same worker restarting);
 *   - an attempt that reported without a lease is lost once it is `silent` by the stuck detector's
 *     rule: no report or lease-less heartbeat for BUILDSTATE_HEARTBEAT_TIMEOUT_S seconds.
 * A report's transaction re-checks what the rule read: the build put is conditioned on the build's
 * version and lease_id (which always names the live item's lease), and a lease-less attempt's
 * silence is a condition on the live item (live.item.ts, `leaseCheck`).
 * The lost attempt's record (silent_since, lease_expired_at) comes from its lease's signs of life:
 * the live lease's, or, once a take replaced that lease (a worker taking a lease before taking the
 * attempt over, as `bldst run` does), the replaced lease's as the take kept them (`prev_lease_*`).
 * A take changes the build's lease_id, so the report's put condition also holds what was read.
 */
import type { Build } from './build.model';

/** What the live item knows about the attempt's worker (absent fields: unknown or never written). */
export interface LiveSigns {
  lease_id?: string;
  lease_worker_id?: string;
  lease_expires_ms?: number;
  last_heartbeat_ms?: number;
  /** The latest heartbeat sent without a lease (POST /builds/{id}/heartbeat). */
  unleased_heartbeat_ms?: number;
  /** The lease the last take replaced, as it was then (live.item.ts): a takeover's lease replaces the attempt's. */
  prev_lease_id?: string;
  prev_lease_worker_id?: string;
  prev_lease_expires_ms?: number;
  prev_lease_heartbeat_ms?: number;
  prev_lease_ended_ms?: number;
}

/** A lease's holder and signs of life, and when it ended (expired, or was replaced). */
interface LeaseSigns {
  worker_id?: string;
  expires_ms?: number;
  heartbeat_ms?: number;
  /** When it stopped being the build's lease; undefined while it still is. */
  replaced_ms?: number;
}

/**
 * The signs of the attempt's lease: the live lease if it is still that one, else the lease the
 * last take replaced if that was it (a worker that took a lease before taking the attempt over).
 */
function attemptLeaseSigns(live: LiveSigns | undefined, attemptLease: string): LeaseSigns | undefined {
  if (live?.lease_id === attemptLease)
    return {
      worker_id: live.lease_worker_id,
      expires_ms: live.lease_expires_ms,
      heartbeat_ms: live.last_heartbeat_ms,
    };
  if (live?.prev_lease_id === attemptLease)
    return {
      worker_id: live.prev_lease_worker_id,
      expires_ms: live.prev_lease_expires_ms,
      heartbeat_ms: live.prev_lease_heartbeat_ms,
      replaced_ms: live.prev_lease_ended_ms,
    };
  return undefined;
}

export interface LostAttempt {
  state_code: number;
  attempt: number;
  /** The worker that was running it, as far as the service knows. */
  worker_id: string | null;
  /** Its last sign of life: the attempt's start, a report, a renewal or a heartbeat. */
  silent_since: string;
  /** When its lease expired, if it had one and it expired (null: released, replaced, or none). */
  lease_expired_at: string | null;
  /** How the loss was established. */
  by: 'lease' | 'silence';
}

export interface LossFacts {
  nowMs: number;
  heartbeatTimeoutSeconds: number;
  /**
   * For a report: the X-Lease-Id it carries (null: none). The report's transaction proves that
   * lease is the live one (or that none is live), so a lease other than the attempt's means the
   * attempt's lease is not live. Undefined for a read (resume), which decides from `live`.
   */
  claim?: string | null;
  live?: LiveSigns;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The running attempt of the build's current state, if it is lost; null if none runs or it is alive. */
export function lostAttempt(build: Build, facts: LossFacts): LostAttempt | null {
  if (build.state_status !== 'in_progress' || build.status !== 'in_progress') return null;
  const startedMs = Date.parse(build.attempt_started_at ?? build.updated_at);
  const reportedMs = build.last_reported_at ? Date.parse(build.last_reported_at) : 0;
  const live = facts.live;
  const attemptLease = build.attempt_lease_id ?? null;
  const base = { state_code: build.current_state, attempt: build.attempt };

  if (attemptLease) {
    const ownLive = live?.lease_id === attemptLease ? live : undefined;
    const lost =
      facts.claim !== undefined
        ? facts.claim !== attemptLease
        : !ownLive || (ownLive.lease_expires_ms ?? 0) <= facts.nowMs;
    if (!lost) return null;
    const signs = attemptLeaseSigns(live, attemptLease);
    const sign = Math.max(startedMs, reportedMs, signs?.heartbeat_ms ?? 0);
    // It expired if it did so before it was replaced: a lease replaced while live (its worker
    // restarting) did not expire, even though its expiry has passed by now.
    const endedMs = signs?.replaced_ms ?? facts.nowMs;
    const expired =
      signs?.expires_ms !== undefined && signs.expires_ms <= endedMs ? iso(signs.expires_ms) : null;
    return {
      ...base,
      worker_id: signs?.worker_id ?? build.last_worker_id,
      silent_since: iso(sign),
      lease_expired_at: expired,
      by: 'lease',
    };
  }

  // No lease: silent by the stuck detector's rule (reports and lease-less heartbeats are signs of life).
  const sign = Math.max(startedMs, reportedMs, live?.unleased_heartbeat_ms ?? 0);
  if (facts.nowMs - sign < facts.heartbeatTimeoutSeconds * 1000) return null;
  return {
    ...base,
    worker_id: build.last_worker_id,
    silent_since: iso(sign),
    lease_expired_at: null,
    by: 'silence',
  };
}

/** "vm-dead, silent since …" for reasons and messages. */
export function describeLoss(lost: LostAttempt): string {
  return `${lost.worker_id ?? 'its worker'}, silent since ${lost.silent_since}${
    lost.lease_expired_at ? ` (lease expired ${lost.lease_expired_at})` : ''
  }`;
}

import type { LiveItem } from './live.item';

/** The public view of a build's lease, or null when no lease is live at `now`. */
export function leaseHolder(live: LiveItem, now: Date) {
  if (!live.lease_id || live.lease_expires_ms === undefined || live.lease_expires_ms <= now.getTime())
    return null;
  return {
    worker_id: live.lease_worker_id ?? null,
    fence: live.lease_fence ?? null,
    acquired_at: live.lease_acquired_at ?? null,
    expires_at: new Date(live.lease_expires_ms).toISOString(),
  };
}

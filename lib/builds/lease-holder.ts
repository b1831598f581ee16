/**
 * Who holds a build's lease, as the API shows it: in a lease call's answer and in a report's
 * lease_held/lease_lost error (BuildService). A view of the build's live item, so it lives with
 * builds; lib/leases uses it from here.
 */
import { timestampSchema } from '../view';
import * as z from '../zod';
import type { LiveItem } from './live.item';

/** Who holds a build's lease (no lease id: only the holder knows it). */
export const leaseHolderSchema = z.strictObject({
  worker_id: z.nullable(z.string()),
  fence: z.nullable(z.int()),
  acquired_at: z.nullable(timestampSchema),
  expires_at: timestampSchema,
});
export type LeaseHolder = z.infer<typeof leaseHolderSchema>;

/** The public view of a build's lease, or null when no lease is live at `now`. */
export function leaseHolder(live: LiveItem, now: Date): LeaseHolder | null {
  if (!live.lease_id || live.lease_expires_ms === undefined || live.lease_expires_ms <= now.getTime())
    return null;
  return {
    worker_id: live.lease_worker_id ?? null,
    fence: live.lease_fence ?? null,
    acquired_at: live.lease_acquired_at ?? null,
    expires_at: new Date(live.lease_expires_ms).toISOString(),
  };
}

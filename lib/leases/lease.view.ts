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

/** POST and PUT /builds/{id}/lease: the lease the caller now holds. */
export const leaseViewSchema = z.strictObject({
  build_id: z.string(),
  lease_id: z.string().check(z.meta({ description: 'Send it as X-Lease-Id with every report' })),
  worker_id: z.string(),
  fence: z.int().check(z.meta({ description: 'One more for every lease granted on the build' })),
  acquired_at: timestampSchema,
  expires_at: timestampSchema,
  ttl_s: z.int(),
  server_time: timestampSchema,
});

/** GET /builds/{id}/lease. */
export const leaseStatusSchema = z.strictObject({
  build_id: z.string(),
  lease: z.nullable(leaseHolderSchema),
  lease_fence: z.int(),
  last_heartbeat_at: z.nullable(timestampSchema),
  heartbeat_worker_id: z.nullable(z.string()),
});

/** DELETE /builds/{id}/lease. */
export const leaseReleasedSchema = z.strictObject({
  build_id: z.string(),
  released: z.literal(true),
  lease: z.null(),
});

/** POST /builds/{id}/heartbeat. */
export const heartbeatViewSchema = z.strictObject({
  build_id: z.string(),
  worker_id: z.string(),
  last_heartbeat_at: timestampSchema,
});

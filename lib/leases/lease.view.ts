import { leaseHolderSchema } from '../builds/lease-holder';
import { timestampSchema } from '../view';
import * as z from '../zod';

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

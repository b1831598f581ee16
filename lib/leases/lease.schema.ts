import { hourlyCostSchema } from '../cost/cost.schema';
import * as z from '../zod';

export const MIN_LEASE_TTL_S = 5;
export const MAX_LEASE_TTL_S = 3600;
export const DEFAULT_LEASE_TTL_S = 120;

const workerId = z
  .string()
  .check(z.minLength(1, 'must not be empty'))
  .check(z.maxLength(256, 'must be at most 256 characters'));
const ttl = z.number().check(z.int()).check(z.gte(MIN_LEASE_TTL_S)).check(z.lte(MAX_LEASE_TTL_S));
/** Lease ids are ULIDs handed out by POST /builds/{id}/lease. */
export const leaseIdSchema = z
  .string()
  .check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a lease id (26-character ULID)'));

export const acquireLeaseSchema = z.strictObject({
  worker_id: workerId,
  ttl_s: z._default(ttl, DEFAULT_LEASE_TTL_S),
  /** The worker's own price per hour: prices the attempts it starts under this lease (lib/cost/pricing.ts). */
  hourly_cost: z.optional(hourlyCostSchema),
});
export type AcquireLeaseInput = z.infer<typeof acquireLeaseSchema>;

/** PUT and DELETE name the lease in the body or in X-Lease-Id; the handler merges the two. */
export const renewLeaseSchema = z.strictObject({
  lease_id: leaseIdSchema,
  ttl_s: z.optional(ttl),
});
export type RenewLeaseInput = z.infer<typeof renewLeaseSchema>;

export const releaseLeaseSchema = z.strictObject({ lease_id: leaseIdSchema });

export const heartbeatSchema = z.strictObject({
  worker_id: workerId,
  message: z.nullish(z.string().check(z.maxLength(2000))),
});
export type HeartbeatInput = z.infer<typeof heartbeatSchema>;

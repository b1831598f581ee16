import * as z from 'zod';

export const MIN_LEASE_TTL_S = 5;
export const MAX_LEASE_TTL_S = 3600;
export const DEFAULT_LEASE_TTL_S = 120;

const workerId = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const ttl = z.number().int().min(MIN_LEASE_TTL_S).max(MAX_LEASE_TTL_S);
/** Lease ids are ULIDs handed out by POST /builds/{id}/lease. */
export const leaseIdSchema = z
  .string()
  .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a lease id (26-character ULID)');

export const acquireLeaseSchema = z.strictObject({
  worker_id: workerId,
  ttl_s: ttl.default(DEFAULT_LEASE_TTL_S),
});
export type AcquireLeaseInput = z.infer<typeof acquireLeaseSchema>;

/** PUT and DELETE name the lease in the body or in X-Lease-Id; the handler merges the two. */
export const renewLeaseSchema = z.strictObject({
  lease_id: leaseIdSchema,
  ttl_s: ttl.optional(),
});
export type RenewLeaseInput = z.infer<typeof renewLeaseSchema>;

export const releaseLeaseSchema = z.strictObject({ lease_id: leaseIdSchema });

export const heartbeatSchema = z.strictObject({
  worker_id: workerId,
  message: z.string().max(2000).nullish(),
});
export type HeartbeatInput = z.infer<typeof heartbeatSchema>;

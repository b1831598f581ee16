/**
 * Shapes every mutating use case shares (builds, reference data): what a caller may ask of a
 * change, and the answer: a domain result (lib/outcome.ts) that lib/http maps to a status, and
 * that idempotency records keep so a replay is answered the same way.
 */
import type { IdempotencyRequest } from './idempotency/idempotency';
import type { Result } from './outcome';

export interface Outcome<B = unknown> extends Result<B> {
  /** True when the result is the remembered one for a repeated Idempotency-Key. */
  replayed: boolean;
  /** The version after the change, for ETag. */
  version?: number;
}

export interface MutationOptions {
  idempotency?: IdempotencyRequest;
  /** If-Match: the change applies only to this version (412 otherwise). */
  ifMatch?: number;
  /** X-Lease-Id of a state report (checked against the build's live lease). */
  leaseId?: string;
}

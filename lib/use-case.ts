/**
 * Shapes every mutating use case shares (builds, reference data): what a caller may ask of a
 * change, and the answer, which HTTP adapters return as is and idempotency replays verbatim.
 */
import type { IdempotencyRequest, StoredResponse } from './idempotency/idempotency';

export interface Outcome extends StoredResponse {
  /** True when the response is the remembered one for a repeated Idempotency-Key. */
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

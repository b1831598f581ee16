/**
 * The one error family of the domain. Every rule violation is an AppError with a stable
 * machine-readable `code`; lib/http maps it to a status and the JSON error body in one place.
 * Anything that is not an AppError is a bug or an outage and becomes a generic 5xx.
 */
export type ErrorCode =
  | 'validation_error'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'build_exists'
  | 'state_regression'
  | 'already_in_progress'
  | 'state_completed'
  | 'blocked'
  | 'not_blocked'
  | 'build_completed'
  | 'build_cancelled'
  | 'conflict'
  | 'state_not_reached'
  | 'artifact_exists'
  | 'artifact_not_uploaded'
  | 'artifact_missing'
  | 'checksum_mismatch'
  | 'checksum_required'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'idempotency_mismatch'
  | 'already_exists'
  | 'unknown_reference'
  | 'lease_held'
  | 'lease_lost'
  | 'revoked'
  | 'not_completed'
  | 'too_many_requests'
  | 'unavailable'
  | 'internal_error';

const STATUS: Record<ErrorCode, number> = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  build_exists: 409,
  state_regression: 409,
  already_in_progress: 409,
  state_completed: 409,
  blocked: 409,
  not_blocked: 409,
  build_completed: 409,
  build_cancelled: 409,
  conflict: 409,
  state_not_reached: 409,
  artifact_exists: 409,
  artifact_not_uploaded: 409,
  artifact_missing: 409,
  checksum_mismatch: 409,
  checksum_required: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  idempotency_mismatch: 422,
  already_exists: 409,
  unknown_reference: 422,
  lease_held: 409,
  lease_lost: 409,
  revoked: 409,
  not_completed: 409,
  too_many_requests: 429,
  unavailable: 503,
  internal_error: 500,
};

/** Every error code, in declaration order (the OpenAPI error schema lists them). */
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];

/** The HTTP status an error code is answered with. */
export const statusOf = (code: ErrorCode): number => STATUS[code];

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

export const notFound = (what: string, id: string) =>
  new AppError('not_found', `${what} '${id}' does not exist`, { [`${what}_id`]: id });

export const validationError = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('validation_error', message, details);

/** The storage layer could not be reached or answered with an outage; callers may retry. */
export const unavailable = (cause: unknown) =>
  new AppError('unavailable', 'The build state store is unavailable; retry shortly', {}, { cause });

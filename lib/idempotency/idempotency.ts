import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import { AppError } from '../errors';
import type { Result } from '../outcome';

/**
 * Idempotency-Key support. The record is written in the same transaction as the change it
 * guards, so "committed" and "remembered" can never disagree: there is no in-flight state to
 * expire and no window in which a retry could apply the change twice.
 */
export interface IdempotencyRequest {
  /** Client-chosen key, scoped to the caller's principal. */
  key: string;
  principal: string;
  /** Digest of method, path and canonical body: same key + different request → 422. */
  fingerprint: string;
}

/**
 * What a record keeps: the use case's result as the first request got it (its outcome and body).
 * lib/http maps a replayed result through the same route as the first, so the client gets the
 * same status and the same bytes again.
 */
export type RecordedResult = Result;

export const idempotencyKey = (principal: string, key: string) => ({
  pk: `IDEMP#${principal}#${createHash('sha256').update(key).digest('base64url')}`,
  sk: 'IDEMP',
});

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function fingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`)
    .digest('base64url');
}

export { canonicalJson };

export const idempotencyMismatch = (key: string) =>
  new AppError(
    'idempotency_mismatch',
    'This Idempotency-Key was already used with a different request; use a new key for a new request',
    { idempotency_key: key },
  );

import { unmarshall } from '@aws-sdk/util-dynamodb';
import { sentWithoutAnswer } from '../aws/clients';
import { unavailable } from '../errors';

const OUTAGE_NAMES = new Set([
  'TimeoutError',
  'AbortError',
  'ResourceNotFoundException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
  // A transaction retried with its ClientRequestToken while its first attempt is still applied.
  'TransactionInProgressException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * An Error, from any realm: a socket's error is created by Node itself, which under Jest is not
 * the test sandbox's `Error`.
 */
const isError = (e: unknown): e is Error =>
  e instanceof Error || (typeof e === 'object' && e !== null && typeof (e as Error).message === 'string');

/** True for errors that mean "the store is unreachable or overloaded", which callers may retry. */
export function isOutage(error: unknown): boolean {
  for (let e = error, depth = 0; isError(e) && depth < 5; e = e.cause, depth++) {
    const x = e as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
    if (OUTAGE_NAMES.has(x.name)) return true;
    if (x.code && NETWORK_CODES.has(x.code)) return true;
    // No credentials to sign with (or a credential source left out of the bundle:
    // infra/bundling/lambda-bundling.ts) is a fault of the deployment, not of the store: a 500.
    if (x.name === 'CredentialsProviderError' || x.code === 'ERR_MODULE_NOT_FOUND') return false;
    if (x.$metadata) {
      // An error without an HTTP status never got a response (a socket, TLS or parser
      // failure): the SDK's retry middleware gives every failure `$metadata` with its attempts.
      const status = x.$metadata.httpStatusCode;
      return status === undefined || status >= 500;
    }
  }
  return false;
}

/**
 * True for failures after which a write may or may not have been applied: the request was sent
 * and no answer came (a timeout, a connection reset). A refused connection sent nothing.
 */
export function isOutcomeUnknown(error: unknown): boolean {
  for (let e = error, depth = 0; isError(e) && depth < 5; e = e.cause, depth++) {
    if (sentWithoutAnswer(e)) return true;
    // The retry of a transaction whose first attempt DynamoDB is still applying.
    if (e.name === 'TransactionInProgressException') return true;
  }
  return false;
}

/** Re-throws outages as the 503 `unavailable` AppError and everything else unchanged. */
export function translateStoreError(error: unknown): never {
  if (isOutage(error)) throw unavailable(error);
  throw error;
}

/**
 * Which items of a TransactWriteItems failed their condition, by position.
 * `conflict` is real DynamoDB's TransactionConflict (another transaction touched an item);
 * DynamoDB Local serialises requests and never reports it, but callers must retry on it.
 */
export interface CancellationSummary {
  failedConditions: number[];
  conflict: boolean;
  /** The item as it was, for failed items that asked for it (ReturnValuesOnConditionCheckFailure). */
  oldItem(position: number): Record<string, unknown> | undefined;
}

export function cancellation(error: unknown): CancellationSummary | null {
  if ((error as Error | undefined)?.name !== 'TransactionCanceledException') return null;
  const reasons =
    (error as { CancellationReasons?: { Code?: string; Item?: Record<string, unknown> }[] })
      .CancellationReasons ?? [];
  return {
    failedConditions: reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : [])),
    conflict: reasons.some((r) => r.Code === 'TransactionConflict'),
    oldItem: (position) => {
      const item = reasons[position]?.Item;
      // Items inside errors are DynamoDB's form (lib-dynamodb does not unmarshall errors).
      return item ? unmarshall(item as Parameters<typeof unmarshall>[0]) : undefined;
    },
  };
}

/** A single-item write whose ConditionExpression did not hold. */
export const isConditionFailure = (error: unknown): boolean =>
  (error as Error | undefined)?.name === 'ConditionalCheckFailedException';

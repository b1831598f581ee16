/**
 * The retry rules of the signed calls (lib/aws/signed-http.ts) are the SDK's: for every kind of
 * failure the JSON and S3 callers meet, retryKind agrees with the SDK's own classification
 * (@smithy/core/retry, which its standard strategy applies: throttling and transient errors are
 * retried, anything else is not), and the backoff has the strategy's bounds.
 */
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { backoffMs, retryKind, timeoutError } from '../../../../lib/aws/signed-http';

const answered = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const socket = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

const FAILURES: [string, Error][] = [
  ['ThrottlingException 400', answered('ThrottlingException', 400)],
  ['ProvisionedThroughputExceededException 400', answered('ProvisionedThroughputExceededException', 400)],
  ['RequestLimitExceeded 400', answered('RequestLimitExceeded', 400)],
  ['LimitExceededException 400', answered('LimitExceededException', 400)],
  ['TransactionInProgressException 400', answered('TransactionInProgressException', 400)],
  ['any code with 429', answered('Whatever', 429)],
  ['InternalServerError 500', answered('InternalServerError', 500)],
  ['ServiceUnavailable 503', answered('ServiceUnavailable', 503)],
  ['Http502Error 502', answered('Http502Error', 502)],
  ['504', answered('Http504Error', 504)],
  ['501 (not transient)', answered('NotImplemented', 501)],
  ['a timeout', timeoutError('no answer')],
  ['RequestTimeoutException 400', answered('RequestTimeoutException', 400)],
  ['ECONNRESET', socket('ECONNRESET')],
  ['ECONNREFUSED', socket('ECONNREFUSED')],
  ['EPIPE', socket('EPIPE')],
  ['ENOTFOUND', socket('ENOTFOUND')],
  ['EAI_AGAIN', socket('EAI_AGAIN')],
  ['ValidationException 400', answered('ValidationException', 400)],
  ['ConditionalCheckFailedException 400', answered('ConditionalCheckFailedException', 400)],
  ['TransactionCanceledException 400', answered('TransactionCanceledException', 400)],
  ['ResourceNotFoundException 400', answered('ResourceNotFoundException', 400)],
  ['AccessDeniedException 400', answered('AccessDeniedException', 400)],
  ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' })],
];

describe('retryKind', () => {
  it.each(FAILURES)('classifies %s as the SDK does', (_what, error) => {
    const sdk = isThrottlingError(error as never)
      ? 'throttling'
      : isTransientError(error as never)
        ? 'transient'
        : null;
    expect(retryKind(error)).toBe(sdk);
  });

  it('retries throttling, 5xx and socket failures, never another 4xx', () => {
    const kinds = Object.fromEntries(FAILURES.map(([what, error]) => [what, retryKind(error)]));
    expect(kinds['ThrottlingException 400']).toBe('throttling');
    expect(kinds['InternalServerError 500']).toBe('transient');
    expect(kinds.ECONNRESET).toBe('transient');
    expect(kinds['ValidationException 400']).toBeNull();
    expect(kinds['ConditionalCheckFailedException 400']).toBeNull();
  });
});

describe('backoffMs', () => {
  it('is full jitter below the base × 2^retry: 50 ms after a transient failure, 1 s after throttling', () => {
    expect(backoffMs('transient', 0, () => 0)).toBe(0);
    expect(backoffMs('transient', 0, () => 0.999)).toBe(49);
    expect(backoffMs('transient', 2, () => 0.5)).toBe(100);
    expect(backoffMs('throttling', 0, () => 0.999)).toBe(999);
    // Capped at 20 s however many retries.
    expect(backoffMs('throttling', 10, () => 0.999)).toBe(19_980);
  });
});

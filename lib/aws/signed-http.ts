/**
 * The plumbing every AWS call of the Lambda functions shares, instead of the SDK clients (whose
 * middleware, protocol and endpoint code is most of a bundle and of its cold start): endpoints by
 * partition, the SDK's own SigV4 signer (@smithy/signature-v4) with credentials from the standard
 * chain (in Lambda bundles, the environment: infra/bundling/lambda-credentials.ts), one request over
 * node:http(s)' kept-alive global agents with the store's connection and request timeouts, and the
 * SDK's retry rules (@smithy/util-retry and service-error-classification: which errors, how long).
 * lib/artifacts/signed-s3.ts (S3) and lib/aws/json-rpc.ts (DynamoDB, Secrets Manager, EventBridge)
 * are built on it.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../auth/sha256';

/**
 * How long one call may wait for the store. A stalled call must end well before the function's
 * own timeout (10 s in AWS, 29 s in the local gateway), so the service, not the platform, answers:
 * at most `attempts` × (connection + request timeout) plus one backoff (under 1 s), about 9 s.
 */
export const STORE_TIMEOUTS = {
  attempts: 2,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
} as const;

/** Credentials as the signer takes them: fixed, or a provider (the standard chain). */
export type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/**
 * The DNS suffix of AWS endpoints in a region's partition: aws-cn (`cn-*`) is `amazonaws.com.cn`;
 * aws and aws-us-gov are `amazonaws.com`. The isolated partitions (aws-iso*) are not supported.
 */
export const dnsSuffix = (region: string) =>
  region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';

/** A SigV4 signer for one service and region; credentials default to the standard provider chain. */
export function awsSigner(opts: {
  service: string;
  region: string;
  credentials?: Credentials;
  /** S3 signs the path as sent; every other service escapes it a second time (the signer's default). */
  uriEscapePath?: boolean;
}): SignatureV4 {
  return new SignatureV4({
    service: opts.service,
    region: opts.region,
    sha256: Sha256,
    credentials: opts.credentials ?? defaultProvider(),
    uriEscapePath: opts.uriEscapePath ?? true,
  });
}

/** A call that got no answer in time, named as the SDK names it (lib/db/errors.ts reads the name). */
export const timeoutError = (message: string) => Object.assign(new Error(message), { name: 'TimeoutError' });

/**
 * Sends one request; resolves with the response once its headers arrived. The connection timeout
 * runs until connected, then the request timeout (socket inactivity) until the response headers
 * or, with `untilEnd`, until the whole body is read; and the two together are a wall-clock limit
 * over the same span, so an answer that trickles in a byte at a time ends too. A timeout destroys
 * the request (or response) with a `TimeoutError`. Socket errors reject with their `code`
 * (ECONNREFUSED, ECONNRESET …).
 */
export function sendRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string | Uint8Array,
  opts: { untilEnd?: boolean } = {},
): Promise<IncomingMessage> {
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    // The global agents keep connections alive (Node's default since 19).
    const req = request(url, { method, headers, timeout: STORE_TIMEOUTS.connectionTimeoutMs });
    let response: IncomingMessage | undefined;
    const fail = (error: Error) => {
      if (response) response.destroy(error);
      else req.destroy(error);
    };
    const limitMs = STORE_TIMEOUTS.connectionTimeoutMs + STORE_TIMEOUTS.requestTimeoutMs;
    const deadline = setTimeout(
      () => fail(timeoutError(`${method} ${url.host} did not answer within ${limitMs} ms`)),
      limitMs,
    );
    deadline.unref();
    // A kept-alive socket is connected already: it never emits 'connect' again, so waiting for it
    // would leave the connection timeout in place and a listener behind on every reuse.
    req.on('socket', (socket) => {
      if (!socket.connecting) {
        req.setTimeout(STORE_TIMEOUTS.requestTimeoutMs);
        return;
      }
      socket.once(url.protocol === 'http:' ? 'connect' : 'secureConnect', () =>
        req.setTimeout(STORE_TIMEOUTS.requestTimeoutMs),
      );
    });
    req.on('timeout', () => fail(timeoutError(`${method} ${url.host} got no answer in time`)));
    req.on('error', (error: Error & { code?: string }) => {
      clearTimeout(deadline);
      reject(error.name === 'TimeoutError' ? error : socketError(error));
    });
    req.on('response', (res) => {
      response = res;
      if (opts.untilEnd) res.once('close', () => clearTimeout(deadline));
      else {
        // A download: a long body is cut by neither the request timeout nor the deadline.
        clearTimeout(deadline);
        req.setTimeout(0);
      }
      resolve(res);
    });
    req.end(body);
  });
}

/**
 * True when a request was sent and no answer came (a timeout, a connection reset): a write may or
 * may not have been applied. A refused connection sent nothing. (One error; lib/db/errors.ts
 * follows `cause` chains with it.)
 */
export function sentWithoutAnswer(error: Error & { code?: string }): boolean {
  return (
    error.name === 'TimeoutError' ||
    error.name === 'AbortError' ||
    error.code === 'ETIMEDOUT' ||
    error.code === 'ECONNRESET' ||
    error.code === 'EPIPE' ||
    /socket hang up/i.test(error.message)
  );
}

/**
 * A socket's error as our own Error with its `code`, the original as `cause`: its stack is only
 * Node's internals, and it is not `instanceof Error` in another realm (Jest's test sandboxes).
 */
function socketError(error: Error & { code?: string; syscall?: string }): Error {
  return Object.assign(new Error(error.message, { cause: error }), {
    ...(error.code ? { code: error.code } : {}),
    ...(error.syscall ? { syscall: error.syscall } : {}),
  });
}

/** The whole body of a response, as text. */
export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch (error) {
    const e = error as Error;
    throw e.name === 'TimeoutError' ? e : socketError(e);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The error codes the SDK retries with the throttling backoff (service-error-classification). */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

type Failure = Error & { code?: string; $metadata?: { httpStatusCode?: number } };

/**
 * How the SDK's standard retry strategy treats a failed attempt: throttling (429 or a throttling
 * code) and transient failures (timeouts, socket errors, 500/502/503/504) are retried; every other
 * error, a 4xx above all, is final.
 */
export function retryKind(error: unknown): 'throttling' | 'transient' | null {
  if (!(error instanceof Error)) return null;
  const e = error as Failure;
  if (e.$metadata?.httpStatusCode === 429 || THROTTLING.has(e.name)) return 'throttling';
  if (e.name === 'AbortError') return null;
  if (TRANSIENT_NAMES.has(e.name) || TRANSIENT_SOCKET_CODES.has(e.code ?? '')) return 'transient';
  if (TRANSIENT_STATUS.has(e.$metadata?.httpStatusCode ?? 0)) return 'transient';
  return null;
}

/**
 * The SDK's backoff before retry number `retry` (0 for the first): full jitter, a random share of
 * base × 2^retry capped at 20 s, the base 1 s after throttling and 50 ms otherwise.
 */
export const backoffMs = (kind: 'throttling' | 'transient', retry: number, random = Math.random) =>
  Math.floor(random() * Math.min((kind === 'throttling' ? 1_000 : 50) * 2 ** retry, 20_000));

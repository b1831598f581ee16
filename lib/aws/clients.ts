/**
 * What every AWS SDK v3 client of the service shares (DynamoDB, S3, EventBridge, Secrets Manager):
 * the store's timeouts and attempts, the user agent app id, X-Ray tracing (Powertools'
 * captureAWSv3Client) and one rule on top of the SDK's retries: a write whose attempt went
 * unanswered is never read as its retry's refusal. Each client is built once per runtime (a Lambda
 * container, the local gateway's process) by the module that owns it.
 */
import { version } from '../../package.json';
import { tracer } from '../observability/tracer';

/**
 * How long one call may wait for the store. A stalled call must end well before the function's
 * own timeout (10 s in AWS, 29 s in the local gateway), so the service, not the platform, answers:
 * per attempt 1 s to connect, and 4 s in all (connection included) until the answer's headers
 * (NodeHttpHandler's requestTimeout runs from the request's start; throwOnRequestTimeout, else the
 * SDK only warns); at most `attempts` attempts and the SDK's backoff between them: about 9 s.
 */
export const STORE_TIMEOUTS = {
  attempts: 2,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
} as const;

/** Sent in every request's user agent (`app/buildstate/<version>`), so AWS-side logs name the caller. */
export const USER_AGENT_APP_ID = `buildstate/${version}`;

/** The configuration every client takes, over the region (and a local endpoint's settings). */
export function clientConfig(region: string) {
  return {
    region,
    maxAttempts: STORE_TIMEOUTS.attempts,
    requestHandler: {
      connectionTimeout: STORE_TIMEOUTS.connectionTimeoutMs,
      requestTimeout: STORE_TIMEOUTS.connectionTimeoutMs + STORE_TIMEOUTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    userAgentAppId: USER_AGENT_APP_ID,
  };
}

/** Operations that change something: after an unanswered attempt, their retry's failure is not the last word. */
const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
  'PutEventsCommand',
  'PutObjectCommand',
  'CreateMultipartUploadCommand',
  'CompleteMultipartUploadCommand',
]);

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

/** The parts of the SDK's middleware types used here (structural: @smithy/types is not a dependency). */
type Next = (args: unknown) => Promise<unknown>;
type Context = { commandName?: string; buildstateUnanswered?: Error };
interface Stack {
  add(
    middleware: (next: Next, context: Context) => Next,
    options: { step: 'initialize' | 'deserialize'; name: string; priority?: 'high' | 'low' },
  ): void;
}

/**
 * Two middlewares around the SDK's retries. One inside them (deserialize step, per attempt)
 * remembers the first attempt that was sent and got no answer; one outside (initialize step, per
 * call) sees the call's last error. If that call is a write whose earlier attempt went unanswered,
 * it fails with that first, unanswered error (the retry's as its `cause`): the write may have been
 * applied, and a retry refused by the write's own first attempt (its condition no longer holds)
 * must not read as a refusal ("already exists", `lease_held`). A transaction's retry carries the
 * same ClientRequestToken (the SDK makes one per call), so its TransactionCanceledException is final.
 */
function keepUnansweredWrites(stack: Stack): void {
  stack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        // Not `instanceof Error`: a socket's error comes from another realm in Jest's sandboxes.
        const e = error as Error & { code?: string };
        if (!context.buildstateUnanswered && typeof e?.message === 'string' && sentWithoutAnswer(e))
          context.buildstateUnanswered = e;
        throw error;
      }
    },
    { step: 'deserialize', name: 'buildstateUnansweredAttempt', priority: 'high' },
  );
  stack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const unanswered = context.buildstateUnanswered;
        if (
          unanswered &&
          unanswered !== error &&
          WRITES.has(context.commandName ?? '') &&
          !(
            context.commandName === 'TransactWriteItemsCommand' &&
            (error as Error).name === 'TransactionCanceledException'
          )
        )
          // A fresh Error of this realm (a socket's error is Node's own), named and coded as the
          // unanswered one, with the retry's refusal as its cause.
          throw Object.assign(new Error(unanswered.message, { cause: error }), {
            name: unanswered.name,
            ...((unanswered as { code?: string }).code
              ? { code: (unanswered as { code?: string }).code }
              : {}),
            $metadata: (error as { $metadata?: unknown }).$metadata,
          });
        throw error;
      }
    },
    { step: 'initialize', name: 'buildstateUnansweredWrite', priority: 'high' },
  );
}

/**
 * A client as every function uses it: the unanswered-write rule on its stack, traced by X-Ray when
 * tracing is on (in Lambda). Call once per client, where the client is built.
 */
export function serviceClient<C extends { middlewareStack: unknown }>(client: C): C {
  keepUnansweredWrites(client.middlewareStack as Stack);
  return tracer.captureAWSv3Client(client);
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config/env';

/**
 * How long one call may wait for the store. A stalled call must end well before the function's
 * own timeout (10 s in AWS, 29 s in the local gateway), so the service, not the platform, answers:
 * at most STORE_ATTEMPTS × (connection + request timeout) plus one backoff, about 8 s.
 * `throwOnRequestTimeout` is what makes requestTimeout end the call: without it the SDK only warns.
 */
export const STORE_TIMEOUTS = {
  attempts: 2,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 3_000,
} as const;

/** One document client per runtime. Short timeouts: a slow store becomes a quick 503, not a hung request. */
export function createDocumentClient(
  cfg: Pick<Config, 'region' | 'dynamodbEndpoint'>,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: cfg.region,
    maxAttempts: STORE_TIMEOUTS.attempts,
    requestHandler: {
      connectionTimeout: STORE_TIMEOUTS.connectionTimeoutMs,
      requestTimeout: STORE_TIMEOUTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    ...(cfg.dynamodbEndpoint
      ? {
          endpoint: cfg.dynamodbEndpoint,
          // DynamoDB Local keeps one database per access key and region: pin both.
          credentials: { accessKeyId: 'buildstate', secretAccessKey: 'local' },
        }
      : {}),
  });
  // The SDK's logger middleware filters every request and response for sensitive fields before
  // handing them to the logger, even to the default no-op one: a walk over each item, on every
  // call. No SDK logger is configured here (the service logs its own lines), so it goes.
  client.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE);
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

const SDK_LOGGER_MIDDLEWARE = 'loggerMiddleware';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig, STORE_TIMEOUTS, serviceClient } from '../aws/clients';
import type { Config } from '../config/env';

/**
 * How long one call may wait for the store (lib/aws/clients.ts): a slow store becomes a quick
 * 503, not a hung request.
 */
export { STORE_TIMEOUTS };

/**
 * The document client (lib-dynamodb) over the SDK's DynamoDB client with the service's timeouts,
 * attempts, user agent and tracing (lib/aws/clients.ts). Built once per runtime (lib/compose/store.ts).
 */
export function createDocumentClient(
  cfg: Pick<Config, 'region' | 'dynamodbEndpoint'>,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...clientConfig(cfg.region),
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
  client.middlewareStack.remove('loggerMiddleware');
  return DynamoDBDocumentClient.from(serviceClient(client), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

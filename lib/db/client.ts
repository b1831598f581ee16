import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config/env';

/** One document client per runtime. Short timeouts: a slow store becomes a quick 503, not a hung request. */
export function createDocumentClient(
  cfg: Pick<Config, 'region' | 'dynamodbEndpoint'>,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: cfg.region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
    ...(cfg.dynamodbEndpoint
      ? {
          endpoint: cfg.dynamodbEndpoint,
          // DynamoDB Local keeps one database per access key and region: pin both.
          credentials: { accessKeyId: 'buildstate', secretAccessKey: 'local' },
        }
      : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

import { DYNAMODB, JsonRpcClient } from '../aws/json-rpc';
import { STORE_TIMEOUTS } from '../aws/signed-http';
import type { Config } from '../config/env';
import { DocumentClient } from './commands';

/**
 * How long one call may wait for the store (lib/aws/signed-http.ts): a slow store becomes a quick
 * 503, not a hung request.
 */
export { STORE_TIMEOUTS };

/**
 * One document client per runtime, over signed requests rather than the SDK's DynamoDB client
 * (~160 KB and a cold start of its own in every bundle): lib/db/commands.ts.
 */
export function createDocumentClient(cfg: Pick<Config, 'region' | 'dynamodbEndpoint'>): DocumentClient {
  return new DocumentClient(
    new JsonRpcClient({
      ...DYNAMODB,
      region: cfg.region,
      blobMembers: ['B', 'BS'],
      ...(cfg.dynamodbEndpoint
        ? {
            endpoint: cfg.dynamodbEndpoint,
            // DynamoDB Local keeps one database per access key and region: pin both.
            credentials: { accessKeyId: 'buildstate', secretAccessKey: 'local' },
          }
        : {}),
    }),
  );
}

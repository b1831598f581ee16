import { type DocumentClient, GetCommand } from '../db/commands';
import { translateStoreError } from '../db/errors';
import { TTL_ATTRIBUTE } from '../db/table-definition';
import { type IdempotencyRequest, idempotencyKey, type StoredResponse } from './idempotency';

export interface StoredIdempotency {
  fingerprint: string;
  response: StoredResponse;
}

export class IdempotencyRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
    private readonly ttlSeconds: number,
  ) {}

  /** The remembered response for this key, ignoring records past their TTL that DynamoDB has not yet removed. */
  async find(req: IdempotencyRequest, nowEpoch: number): Promise<StoredIdempotency | null> {
    const res = await this.db
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: idempotencyKey(req.principal, req.key),
          ConsistentRead: true,
        }),
      )
      .catch(translateStoreError);
    const item = res.Item;
    if (!item || (item[TTL_ATTRIBUTE] as number) <= nowEpoch) return null;
    return { fingerprint: item.fingerprint as string, response: JSON.parse(item.response as string) };
  }

  /** A Put for TransactWriteItems that records the response, failing if a live record exists. */
  transactPut(req: IdempotencyRequest, response: StoredResponse, nowEpoch: number) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...idempotencyKey(req.principal, req.key),
          type: 'idempotency',
          fingerprint: req.fingerprint,
          response: JSON.stringify(response),
          [TTL_ATTRIBUTE]: nowEpoch + this.ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': nowEpoch },
      },
    };
  }
}

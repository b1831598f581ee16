import { type DocumentClient, GetCommand } from '../db/commands';
import { translateStoreError } from '../db/errors';
import { TTL_ATTRIBUTE } from '../db/table-definition';
import { type IdempotencyRequest, idempotencyKey, type RecordedResult } from './idempotency';

export interface StoredIdempotency {
  fingerprint: string;
  result: RecordedResult;
}

/**
 * A record as stored. Records written before results carried outcomes kept the HTTP answer
 * (`{status, body}`): every use case answered 201 exactly when it created, so `status: 201` reads
 * as `created`. They expire with their TTL (BUILDSTATE_IDEMPOTENCY_TTL_S); then this can go.
 */
type StoredRecord = RecordedResult | { status: number; body: unknown };

export function readRecord(json: string): RecordedResult {
  const stored = JSON.parse(json) as StoredRecord;
  if (!('status' in stored)) return stored;
  return stored.status === 201 ? { outcome: 'created', body: stored.body } : { body: stored.body };
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
    return { fingerprint: item.fingerprint as string, result: readRecord(item.response as string) };
  }

  /** A Put for TransactWriteItems that records the result, failing if a live record exists. */
  transactPut(req: IdempotencyRequest, result: RecordedResult, nowEpoch: number) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...idempotencyKey(req.principal, req.key),
          type: 'idempotency',
          fingerprint: req.fingerprint,
          response: JSON.stringify(result),
          [TTL_ATTRIBUTE]: nowEpoch + this.ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :now',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': nowEpoch },
      },
    };
  }
}

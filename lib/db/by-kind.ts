import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { translateStoreError } from './errors';
import { INDEXES } from './table-definition';

/** Every item of one by-kind partition (users, API keys: small sets), in sort-key order. */
export async function queryAllOfKind(
  db: DynamoDBDocumentClient,
  tableName: string,
  partition: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await db
      .send(
        new QueryCommand({
          TableName: tableName,
          IndexName: INDEXES.byKind.name,
          KeyConditionExpression: '#ipk = :ipk',
          ExpressionAttributeNames: { '#ipk': INDEXES.byKind.partitionKey },
          ExpressionAttributeValues: { ':ipk': partition },
          ExclusiveStartKey: start,
        }),
      )
      .catch(translateStoreError);
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

const STORED = new Set(['pk', 'sk', 'type', 'gsi5pk', 'gsi5sk']);
/** An item without its keys and bookkeeping attributes. */
export const withoutKeys = <T>(item: Record<string, unknown>): T =>
  Object.fromEntries(Object.entries(item).filter(([k]) => !STORED.has(k))) as T;

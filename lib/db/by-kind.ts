import type { DocumentClient } from './commands';
import { queryAll } from './items';
import { INDEXES } from './table-definition';

/** Every item of one by-kind partition (users, API keys: small sets), in sort-key order. */
export function queryAllOfKind(
  db: DocumentClient,
  tableName: string,
  partition: string,
): Promise<Record<string, unknown>[]> {
  return queryAll(db, {
    TableName: tableName,
    IndexName: INDEXES.byKind.name,
    KeyConditionExpression: '#ipk = :ipk',
    ExpressionAttributeNames: { '#ipk': INDEXES.byKind.partitionKey },
    ExpressionAttributeValues: { ':ipk': partition },
  });
}

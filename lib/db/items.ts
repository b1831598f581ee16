/** Item-level helpers every repository shares: stripping storage keys, reading all pages, batch reads. */

import { AGAIN, retry } from '../retry';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from './commands';
import { translateStoreError } from './errors';
import { ALL_INDEXES, PARTITION_KEY, SORT_KEY } from './table-definition';

type Item = Record<string, unknown>;
/** What a call consumed, for callers that report their cost (ReturnConsumedCapacity). */
export type OnCapacity = (units: number) => void;

const STORED = new Set([
  PARTITION_KEY,
  SORT_KEY,
  'type',
  ...ALL_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey]),
]);
/** An item without its table and index keys and its `type`: the domain record. */
export const withoutKeys = <T>(item: Item): T =>
  Object.fromEntries(Object.entries(item).filter(([k]) => !STORED.has(k))) as T;

const units = (consumed: { CapacityUnits?: number }[] | { CapacityUnits?: number } | undefined) =>
  (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
    (n, c) => n + (c.CapacityUnits ?? 0),
    0,
  );

/** Every page of a query (or up to `limit` items), in order. */
export async function queryAll(
  db: DocumentClient,
  input: QueryCommandInput,
  options: { limit?: number; onCapacity?: OnCapacity } = {},
): Promise<Item[]> {
  const { limit, onCapacity } = options;
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const res = await db
      .send(
        new QueryCommand({
          ...input,
          ...(limit !== undefined ? { Limit: limit - items.length } : {}),
          ExclusiveStartKey: start,
          ...(onCapacity ? { ReturnConsumedCapacity: 'TOTAL' as const } : {}),
        }),
      )
      .catch(translateStoreError);
    onCapacity?.(units(res.ConsumedCapacity));
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start && (limit === undefined || items.length < limit));
  return items;
}

const BATCH_KEYS = 100;
const MAX_ROUNDS = 6;

/**
 * The items of `keys` that exist, in no particular order: BatchGetItem in chunks of 100, with
 * unprocessed keys retried after a backoff; keys still unprocessed after that are an outage (503).
 */
export async function batchGetAll(
  db: DocumentClient,
  tableName: string,
  keys: Item[],
  options: { consistent?: boolean; onCapacity?: OnCapacity } = {},
): Promise<Item[]> {
  const found: Item[] = [];
  for (let at = 0; at < keys.length; at += BATCH_KEYS) {
    let request: Item[] | undefined = keys.slice(at, at + BATCH_KEYS);
    // Waits of min(50 ms · 2^round, 1 s) before rounds 1 … MAX_ROUNDS (no jitter).
    const unprocessed = await retry(
      async () => {
        const res: BatchGetCommandOutput = await db
          .send(
            new BatchGetCommand({
              RequestItems: { [tableName]: { Keys: request, ConsistentRead: options.consistent } },
              ...(options.onCapacity ? { ReturnConsumedCapacity: 'TOTAL' as const } : {}),
            }),
          )
          .catch(translateStoreError);
        options.onCapacity?.(units(res.ConsumedCapacity));
        found.push(...(res.Responses?.[tableName] ?? []));
        request = res.UnprocessedKeys?.[tableName]?.Keys;
        return request && request.length > 0 ? AGAIN : undefined;
      },
      { attempts: MAX_ROUNDS + 1, baseMs: 50, capMs: 1_000, jitter: false },
    );
    if (unprocessed === AGAIN)
      translateStoreError(
        Object.assign(new Error('BatchGet keys stayed unprocessed'), { name: 'ThrottlingException' }),
      );
  }
  return found;
}

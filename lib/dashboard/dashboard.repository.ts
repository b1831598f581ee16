/**
 * Reads behind the dashboard: a fixed set of aggregate items (one BatchGet), the durations
 * partition (one item per platform and state code) and the active index (running builds only).
 * Each read asks for its consumed capacity, so responses can show what they cost.
 */
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { translateStoreError } from '../db/errors';
import { INDEXES } from '../db/table-definition';
import { ACTIVE_SHARDS, activePartition, type LiveItem } from '../leases/live.item';
import { DURATIONS_PK } from './aggregates';

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

/** Read capacity units a request consumed, summed over its DynamoDB calls. */
export class Cost {
  units = 0;
  add(consumed: { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined) {
    for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : [])
      this.units += c.CapacityUnits ?? 0;
  }
}

export class DashboardRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The named aggregate items (≤ 100 keys), eventually consistent: dashboards tolerate a second of lag. */
  async getItems(keys: Key[], cost: Cost): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    let request: Item[] | undefined = keys;
    for (let round = 0; request && request.length > 0 && round < 8; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** round));
      const res: BatchGetCommandOutput = await this.db
        .send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: request } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        )
        .catch(translateStoreError);
      cost.add(res.ConsumedCapacity);
      for (const item of res.Responses?.[this.tableName] ?? []) found.set(item.pk as string, item);
      request = res.UnprocessedKeys?.[this.tableName]?.Keys;
    }
    return found;
  }

  /** Durations histograms, all platforms or one. */
  durations(cost: Cost, platformId?: string): Promise<Item[]> {
    return this.queryAll(
      {
        TableName: this.tableName,
        KeyConditionExpression: platformId ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': DURATIONS_PK, ...(platformId ? { ':p': `${platformId}#` } : {}) },
      },
      cost,
    );
  }

  /**
   * Running builds from the active index, newest first: up to `limit` (all when undefined).
   * Each shard is read newest first and the shards are merged.
   */
  async active(cost: Cost, limit?: number): Promise<LiveItem[]> {
    const shards = await Promise.all(
      Array.from({ length: ACTIVE_SHARDS }, (_, shard) =>
        this.queryAll(
          {
            TableName: this.tableName,
            IndexName: INDEXES.byActive.name,
            KeyConditionExpression: '#p = :p',
            ExpressionAttributeNames: { '#p': INDEXES.byActive.partitionKey },
            ExpressionAttributeValues: { ':p': activePartition(shard) },
            ScanIndexForward: false,
          },
          cost,
          limit,
        ),
      ),
    );
    const sk = INDEXES.byActive.sortKey;
    const merged = shards.flat().sort((a, b) => String(b[sk]).localeCompare(String(a[sk])));
    return (limit === undefined ? merged : merged.slice(0, limit)).map(toLive);
  }

  private async queryAll(input: QueryCommandInput, cost: Cost, limit?: number): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const res = await this.db
        .send(
          new QueryCommand({
            ...input,
            ...(limit !== undefined ? { Limit: limit - items.length } : {}),
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        )
        .catch(translateStoreError);
      cost.add(res.ConsumedCapacity);
      items.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start && (limit === undefined || items.length < limit));
    return items;
  }
}

const KEY_FIELDS = ['pk', 'sk', 'type', INDEXES.byActive.partitionKey, INDEXES.byActive.sortKey];
function toLive(item: Item): LiveItem {
  const out = { ...item };
  for (const field of KEY_FIELDS) delete out[field];
  return out as unknown as LiveItem;
}

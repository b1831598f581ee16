/**
 * Reads behind the dashboard: a fixed set of aggregate items (one BatchGet), the durations
 * partition (one item per platform and state code) and the active index (running builds only).
 * Each read asks for its consumed capacity, so responses can show what they cost.
 */

import { ACTIVE_SHARDS, activePartition, FANNED_OUT, type LiveItem } from '../builds/live.item';
import type { DocumentClient } from '../db/commands';
import { batchGetAll, queryAll, withoutKeys } from '../db/items';
import { INDEXES } from '../db/table-definition';
import { DURATIONS_PK } from './aggregates';

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

/** Read capacity units a request consumed, summed over its DynamoDB calls. */
export class Cost {
  units = 0;
  readonly add = (units: number) => {
    this.units += units;
  };
}

export class DashboardRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  /** The named aggregate items by pk, eventually consistent: dashboards tolerate a second of lag. */
  async getItems(keys: Key[], cost: Cost): Promise<Map<string, Item>> {
    const items = await batchGetAll(this.db, this.tableName, keys, { onCapacity: cost.add });
    return new Map(items.map((item) => [item.pk as string, item]));
  }

  /** Durations histograms, all platforms or one. */
  durations(cost: Cost, platformId?: string): Promise<Item[]> {
    return queryAll(
      this.db,
      {
        TableName: this.tableName,
        KeyConditionExpression: platformId ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': DURATIONS_PK, ...(platformId ? { ':p': `${platformId}#` } : {}) },
      },
      { onCapacity: cost.add },
    );
  }

  /**
   * Running builds from the active index, newest first: up to `limit` (all when undefined).
   * Each shard is read newest first and the shards are merged. `withoutFannedOut` leaves out fork
   * parents waiting on their children (aggregates.ts `summaryBucket`; the index holds them, as
   * their status is in_progress), by a filter: the same reads, the same cost.
   */
  async active(
    cost: Cost,
    limit?: number,
    options: { withoutFannedOut?: boolean } = {},
  ): Promise<LiveItem[]> {
    const filter: {
      FilterExpression?: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    } = options.withoutFannedOut
      ? {
          FilterExpression: 'NOT ((#mark = #version OR #family = #version) AND #status = :waiting)',
          ExpressionAttributeNames: {
            '#mark': FANNED_OUT,
            '#family': 'family_version',
            '#version': 'version',
            '#status': 'status',
          },
          ExpressionAttributeValues: { ':waiting': 'in_progress' },
        }
      : { ExpressionAttributeNames: {}, ExpressionAttributeValues: {} };
    const shards = await Promise.all(
      Array.from({ length: ACTIVE_SHARDS }, (_, shard) =>
        queryAll(
          this.db,
          {
            TableName: this.tableName,
            IndexName: INDEXES.byActive.name,
            KeyConditionExpression: '#p = :p',
            ...(filter.FilterExpression ? { FilterExpression: filter.FilterExpression } : {}),
            ExpressionAttributeNames: {
              '#p': INDEXES.byActive.partitionKey,
              ...filter.ExpressionAttributeNames,
            },
            ExpressionAttributeValues: { ':p': activePartition(shard), ...filter.ExpressionAttributeValues },
            ScanIndexForward: false,
          },
          { limit, onCapacity: cost.add },
        ),
      ),
    );
    const sk = INDEXES.byActive.sortKey;
    const merged = shards.flat().sort((a, b) => String(b[sk]).localeCompare(String(a[sk])));
    return (limit === undefined ? merged : merged.slice(0, limit)).map((item) => withoutKeys<LiveItem>(item));
  }
}

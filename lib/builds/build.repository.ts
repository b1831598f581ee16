/**
 * The only DynamoDB code for builds and their history. A change is committed as a transaction of
 * named parts: this repository builds the build's and the history's, callers add theirs, and
 * refusals come back by name (lib/db/transaction.ts). It knows nothing of leases or dashboards.
 */
import { type DocumentClient, GetCommand, QueryCommand, type QueryCommandInput } from '../db/commands';
import type { KeyShape } from '../db/cursor';
import { translateStoreError } from '../db/errors';
import { batchGetAll, withoutKeys } from '../db/items';
import { INDEXES, type IndexDefinition } from '../db/table-definition';
import { type TransactItem, Transaction, type TransactionResult } from '../db/transaction';
import {
  ALL_BUILDS_PARTITION,
  BUILD_PK_PATTERN,
  buildIndexKeys,
  buildKey,
  childrenKey,
  HISTORY_PREFIX,
  HISTORY_SK_PATTERN,
  historyKey,
  LIST_SK_PATTERN,
  parentPartition,
  platformPartition,
  projectPartition,
  statusPartition,
} from './build.keys';
import type { Build, BuildStatus, Change, HistoryEntry } from './build.model';

type Key = Record<string, string | number>;

/** Names of the build's own parts in a change's transaction (lib/db/transaction.ts). */
export const BUILD_PART = 'build';
export const HISTORY_PART = 'history';

export interface BuildFilters {
  parent_id?: string;
  project_id?: string;
  platform_id?: string;
  status?: BuildStatus;
}

export interface Page<T> {
  items: T[];
  next?: Key;
}

const MAX_LIST_PAGES = 10;

export class BuildRepository {
  constructor(
    private readonly db: DocumentClient,
    readonly tableName: string,
  ) {}

  async get(id: string): Promise<Build | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: buildKey(id), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? toBuild(res.Item) : null;
  }

  /** Builds by id (consistent), those that exist. */
  async getMany(ids: string[]): Promise<Build[]> {
    if (ids.length === 0) return [];
    const items = await batchGetAll(
      this.db,
      this.tableName,
      ids.map((id) => buildKey(id)),
      { consistent: true },
    );
    return items.map(toBuild);
  }

  /** A parent's roll-up item (counters the stream aggregator keeps), or null before its first child is counted. */
  async rollup(parentId: string): Promise<Record<string, unknown> | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: childrenKey(parentId), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ?? null;
  }

  /**
   * A change's transaction with the build's own two parts: the build put, conditioned on the
   * version that was read (or on not existing yet, for a create: `before` = null), and the history
   * put, which can only ever be written once. Callers add their parts (idempotency record, live
   * item, artifacts …) and hand it to `commit`.
   */
  changeTransaction(change: Change, before: Build | null): Transaction {
    const tx = new Transaction().add(BUILD_PART, this.buildPut(change.build, before));
    // Entries the change records before its own (a lost attempt's), each written once like it.
    for (const [n, earlier] of (change.earlier ?? []).entries())
      tx.add(`${HISTORY_PART}-earlier-${n}`, this.historyPut(earlier));
    return tx.add(HISTORY_PART, this.historyPut(change.history));
  }

  /** Sends a change's transaction (one TransactWriteItems); refusals come back by part name. */
  commit(tx: Transaction): Promise<TransactionResult> {
    return tx.send(this.db);
  }

  async history(buildId: string, limit: number, start?: Key): Promise<Page<HistoryEntry>> {
    const res = await this.db
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': buildKey(buildId).pk, ':prefix': HISTORY_PREFIX },
          ConsistentRead: true,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      )
      .catch(translateStoreError);
    return {
      items: (res.Items ?? []).map((i) => withoutKeys<HistoryEntry>(i)),
      next: res.LastEvaluatedKey as Key,
    };
  }

  /** Newest first, through the most selective index; remaining filters run on projected fields. */
  async list(filters: BuildFilters, limit: number, start?: Key): Promise<Page<Build>> {
    const { index, partition, rest } = chooseIndex(filters);
    const filter = Object.entries(rest).filter(([, v]) => v !== undefined);
    const base: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: index.name,
      KeyConditionExpression: '#ipk = :ipk',
      ScanIndexForward: false,
      Limit: limit,
      ExpressionAttributeNames: {
        '#ipk': index.partitionKey,
        ...Object.fromEntries(filter.map(([k], n) => [`#f${n}`, k])),
      },
      ExpressionAttributeValues: {
        ':ipk': partition,
        ...Object.fromEntries(filter.map(([, v], n) => [`:f${n}`, v])),
      },
      ...(filter.length ? { FilterExpression: filter.map((_, n) => `#f${n} = :f${n}`).join(' AND ') } : {}),
    };

    const keys: Record<string, unknown>[] = [];
    let next: Key | undefined = start;
    for (let page = 0; page < MAX_LIST_PAGES && keys.length < limit; page++) {
      const res = await this.db
        .send(new QueryCommand({ ...base, ExclusiveStartKey: next }))
        .catch(translateStoreError);
      keys.push(...(res.Items ?? []));
      next = res.LastEvaluatedKey as Key | undefined;
      if (!next) break;
    }
    if (keys.length > limit) {
      keys.length = limit;
      const last = keys[limit - 1] as Key;
      next = {
        pk: last.pk,
        sk: last.sk,
        [index.partitionKey]: last[index.partitionKey],
        [index.sortKey]: last[index.sortKey],
      };
    }
    return { items: await this.fetchBuilds(keys.map((k) => k.pk as string)), next };
  }

  private async fetchBuilds(pks: string[]): Promise<Build[]> {
    if (pks.length === 0) return [];
    const items = await batchGetAll(
      this.db,
      this.tableName,
      pks.map((pk) => ({ pk, sk: 'BUILD' })),
      { consistent: true },
    );
    const found = new Map(items.map((item) => [item.pk as string, toBuild(item)]));
    return pks.flatMap((pk) => found.get(pk) ?? []);
  }

  /**
   * The build put, conditioned on the version that was read and on `lease_id` being as read too:
   * lease calls write that one attribute without a new version (lib/leases/lease.repository.ts),
   * so a change computed from an older read is refused instead of writing an older lease id back.
   */
  private buildPut(build: Build, before: Build | null): TransactItem {
    if (!before)
      return {
        Put: {
          TableName: this.tableName,
          Item: buildItem(build),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      };
    const lease = leaseIdCondition(before.lease_id);
    return {
      Put: {
        TableName: this.tableName,
        Item: buildItem(build),
        ConditionExpression: `#version = :expected AND ${lease.expression}`,
        ExpressionAttributeNames: { '#version': 'version', ...lease.names },
        ExpressionAttributeValues: { ':expected': before.version, ...lease.values },
      },
    };
  }

  private historyPut(entry: HistoryEntry): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...historyKey(entry.build_id, entry.seq), type: 'history', ...entry },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }
}

/** `lease_id` on the build item is `value`: an id, null (no lease), or absent (a build from before it existed). */
export function leaseIdCondition(value: string | null | undefined): {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const names = { '#leaseid': 'lease_id' };
  if (value === undefined) return { expression: 'attribute_not_exists(#leaseid)', names, values: {} };
  if (value === null)
    return { expression: 'attribute_type(#leaseid, :nulltype)', names, values: { ':nulltype': 'NULL' } };
  return { expression: '#leaseid = :leaseid', names, values: { ':leaseid': value } };
}

/** The start key a page of `list(filters)` may continue from: a build's keys in that index partition. */
export function listStartKeyShape(filters: BuildFilters): KeyShape {
  const { index, partition } = chooseIndex(filters);
  return {
    pk: BUILD_PK_PATTERN,
    sk: 'BUILD',
    [index.partitionKey]: partition,
    [index.sortKey]: LIST_SK_PATTERN,
  };
}

/** The start key a page of `history(buildId)` may continue from: a history item of that build. */
export const historyStartKeyShape = (buildId: string): KeyShape => ({
  pk: buildKey(buildId).pk,
  sk: HISTORY_SK_PATTERN,
});

function chooseIndex(filters: BuildFilters): {
  index: IndexDefinition;
  partition: string;
  rest: BuildFilters;
} {
  const { parent_id, project_id, platform_id, status } = filters;
  if (parent_id)
    return {
      index: INDEXES.byParent,
      partition: parentPartition(parent_id),
      rest: { project_id, platform_id, status },
    };
  if (project_id)
    return {
      index: INDEXES.byProject,
      partition: projectPartition(project_id),
      rest: { platform_id, status },
    };
  if (platform_id)
    return { index: INDEXES.byPlatform, partition: platformPartition(platform_id), rest: { status } };
  if (status) return { index: INDEXES.byStatus, partition: statusPartition(status), rest: {} };
  return { index: INDEXES.byCreated, partition: ALL_BUILDS_PARTITION, rest: {} };
}

const buildItem = (build: Build) => ({
  ...buildKey(build.id),
  ...buildIndexKeys(build),
  type: 'build',
  ...build,
});

const toBuild = (item: Record<string, unknown>) => withoutKeys<Build>(item);

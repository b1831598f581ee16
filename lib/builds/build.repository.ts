/**
 * The only DynamoDB code for builds and their history. Condition failures are translated here
 * into the typed outcomes below; every other error is re-thrown (outages as 503).
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { aggregateUpdates } from '../dashboard/aggregates';
import { adoptBuild } from '../dashboard/backfill';
import type { KeyShape } from '../db/cursor';
import { cancellation, translateStoreError } from '../db/errors';
import { batchGetAll, withoutKeys } from '../db/items';
import { INDEXES, type IndexDefinition } from '../db/table-definition';
import { type LeaseClaim, LIVE_MARK, liveUpdate } from '../leases/live.item';
import {
  ALL_BUILDS_PARTITION,
  BUILD_PK_PATTERN,
  buildIndexKeys,
  buildKey,
  HISTORY_PREFIX,
  HISTORY_SK_PATTERN,
  historyKey,
  LIST_SK_PATTERN,
  platformPartition,
  projectPartition,
  statusPartition,
} from './build.keys';
import type { Build, BuildStatus, Change, HistoryEntry } from './build.model';

export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];
type Key = Record<string, string | number>;

/**
 * What joins a build change's transaction besides the build and its history item: the request's
 * idempotency record, the live item (lib/leases/live.item.ts, whose condition is the lease check
 * when `claim` is given) and the dashboard counters (lib/dashboard/aggregates.ts).
 */
export interface CommitExtras {
  idempotency?: TransactItem;
  /** The lease a state report claims; other changes (cancel, unblock) leave leases alone. */
  claim?: LeaseClaim;
  /** The clock the lease's expiry is compared with. */
  nowMs: number;
  /** More items of the same change (a report's artifact records); a failed one comes back by position. */
  items?: TransactItem[];
}

/** One of `CommitExtras.items` failed its condition; nothing was written. */
export interface ItemRefused {
  failedItem: number;
}

/** The live item's condition failed: someone else's lease is live, or the claimed lease is gone. */
export interface LeaseRefused {
  leaseRefused: Record<string, unknown> | undefined;
}

/** Why a transaction was refused; anything else is thrown. */
export type CommitResult =
  | 'committed'
  | 'build_exists'
  | 'version_changed'
  | 'idempotency_key_used'
  | 'contention'
  /** The build predates live items: it was adopted (counted, given one); apply the change again. */
  | 'adopted';

export interface BuildFilters {
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
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<Build | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: buildKey(id), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? toBuild(res.Item) : null;
  }

  /**
   * Creates the build and its first history item; `extra` (the idempotency record) joins the same
   * transaction, and so do `checks` (ConditionChecks that its references exist and are active).
   * A failed check comes back as its position in `checks`.
   */
  async create(
    change: Change,
    extras: CommitExtras,
    checks: TransactItem[] = [],
  ): Promise<CommitResult | { failedCheck: number }> {
    const extra = extras.idempotency;
    const head: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: buildItem(change.build),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      this.historyPut(change.history),
      ...(extra ? [extra] : []),
      liveUpdate(this.tableName, change.build, extras.nowMs),
      ...aggregateUpdates(this.tableName, null, change),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: [...head, ...checks] }));
      return 'committed';
    } catch (error) {
      const summary = cancellation(error);
      if (!summary) return translateStoreError(error);
      if (extra && summary.failedConditions.includes(2)) return 'idempotency_key_used';
      if (summary.failedConditions.includes(0)) return 'build_exists';
      const check = summary.failedConditions.find((i) => i >= head.length);
      if (check !== undefined) return { failedCheck: check - head.length };
      if (summary.conflict) return 'contention';
      throw error;
    }
  }

  /**
   * Applies a change computed from the build at `expectedVersion`: the build item is replaced only
   * if nobody else changed it since, and the history item can only ever be written once.
   */
  async commit(
    change: Change,
    before: Build,
    extras: CommitExtras,
  ): Promise<CommitResult | LeaseRefused | ItemRefused> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: buildItem(change.build),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': before.version },
        },
      },
      this.historyPut(change.history),
    ];
    const idempotencyAt = extras.idempotency ? items.push(extras.idempotency) - 1 : -1;
    const liveAt = items.push(liveUpdate(this.tableName, change.build, extras.nowMs, extras.claim, true)) - 1;
    items.push(...aggregateUpdates(this.tableName, before, change));
    const extraAt = items.length;
    items.push(...(extras.items ?? []));
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return 'committed';
    } catch (error) {
      const summary = cancellation(error);
      if (!summary) return translateStoreError(error);
      if (summary.failedConditions.includes(idempotencyAt)) return 'idempotency_key_used';
      // A stale version wins over the lease: the caller re-reads and decides again.
      if (summary.failedConditions.includes(0)) return 'version_changed';
      if (summary.failedConditions.includes(liveAt)) {
        const live = summary.oldItem(liveAt);
        // A build from before live items: adopt it (live item + counters, once), then the caller retries.
        if (!live?.[LIVE_MARK]) {
          const current = await this.get(before.id);
          if (current) await adoptBuild(this.db, this.tableName, current, extras.nowMs);
          return 'adopted';
        }
        return { leaseRefused: live };
      }
      const extra = summary.failedConditions.find((i) => i >= extraAt);
      if (extra !== undefined) return { failedItem: extra - extraAt };
      if (summary.conflict) return 'contention';
      // A history item already at this seq while the version matched would break the seq invariant: a bug.
      throw error;
    }
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
  const { project_id, platform_id, status } = filters;
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

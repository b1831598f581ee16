/**
 * The only DynamoDB code for reference data and project state catalogs. An item lives at
 * REF#<type>#<id> / REF; its project's catalog shares the partition (sk CATALOG). Lists read the
 * sparse by-kind index (partition REF#<type>, sorted by id).
 */

import type { Milestone } from '../catalog/state-catalog';
import {
  type DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '../db/commands';
import type { KeyShape } from '../db/cursor';
import { cancellation, isConditionFailure, translateStoreError } from '../db/errors';
import { batchGetAll, withoutKeys } from '../db/items';
import { INDEXES } from '../db/table-definition';
import type { TransactItem } from '../db/transaction';
import type { ReferenceItem, ReferenceType } from './reference.model';

type Key = Record<string, string | number>;

export const referenceKey = (type: ReferenceType, id: string) => ({ pk: `REF#${type}#${id}`, sk: 'REF' });
export const catalogKey = (projectId: string) => ({ pk: `REF#project#${projectId}`, sk: 'CATALOG' });
const kindPartition = (type: ReferenceType) => `REF#${type}`;
const REFERENCE_ID = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';

/** The start key a page of `list(type)` may continue from: an item of that kind in the by-kind index. */
export const listStartKeyShape = (type: ReferenceType): KeyShape => ({
  pk: new RegExp(`^REF#${type}#${REFERENCE_ID}$`),
  sk: 'REF',
  [INDEXES.byKind.partitionKey]: kindPartition(type),
  [INDEXES.byKind.sortKey]: new RegExp(`^${REFERENCE_ID}$`),
});

export interface StoredCatalog {
  project_id: string;
  state_codes: Milestone[];
  version: number;
  updated_at: string;
  updated_by: string;
}

const strip = (item: Record<string, unknown>) => withoutKeys<Record<string, unknown>>(item);

export class ReferenceRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  async get(type: ReferenceType, id: string): Promise<ReferenceItem | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: referenceKey(type, id), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? (strip(res.Item) as ReferenceItem) : null;
  }

  /** Creates the item unless the id is taken; `extra` (a catalog, an idempotency record) joins the transaction. */
  async create(
    type: ReferenceType,
    item: ReferenceItem,
    extra: TransactItem[] = [],
  ): Promise<'created' | 'exists' | 'idempotency_key_used'> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: this.toItem(type, item),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...extra,
          ],
        }),
      );
      return 'created';
    } catch (error) {
      const failed = cancellation(error)?.failedConditions ?? [];
      if (failed.includes(0)) return 'exists';
      if (failed.length) return 'idempotency_key_used';
      return translateStoreError(error);
    }
  }

  /** Replaces the item if it is still at `expectedVersion`; false if someone changed it first. */
  async replace(type: ReferenceType, item: ReferenceItem, expectedVersion: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.toItem(type, item),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async list(
    type: ReferenceType,
    includeDeactivated: boolean,
    limit: number,
    start?: Key,
  ): Promise<{ items: ReferenceItem[]; next?: Key }> {
    const res = await this.db
      .send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEXES.byKind.name,
          KeyConditionExpression: '#ipk = :ipk',
          ExpressionAttributeNames: {
            '#ipk': INDEXES.byKind.partitionKey,
            ...(includeDeactivated ? {} : { '#d': 'deactivated_at' }),
          },
          ExpressionAttributeValues: {
            ':ipk': kindPartition(type),
            ...(includeDeactivated ? {} : { ':null': 'NULL' }),
          },
          ...(includeDeactivated ? {} : { FilterExpression: 'attribute_type(#d, :null)' }),
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      )
      .catch(translateStoreError);
    return {
      items: (res.Items ?? []).map((i) => strip(i) as ReferenceItem),
      next: res.LastEvaluatedKey as Key | undefined,
    };
  }

  /** Which of these references exist and are active, as `<type>#<id>`: one consistent BatchGetItem. */
  async activeIds(refs: [ReferenceType, string][]): Promise<Set<string>> {
    const items = await batchGetAll(
      this.db,
      this.tableName,
      refs.map(([type, id]) => referenceKey(type, id)),
      { consistent: true },
    );
    return new Set(
      items
        .filter((item) => item.deactivated_at === null || item.deactivated_at === undefined)
        .map((item) => `${item.type}#${item.id}`),
    );
  }

  async getCatalog(projectId: string): Promise<StoredCatalog | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: catalogKey(projectId), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? (strip(res.Item) as unknown as StoredCatalog) : null;
  }

  catalogPut(catalog: StoredCatalog, expectedVersion: number | null): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...catalogKey(catalog.project_id), type: 'catalog', ...catalog },
        ...(expectedVersion === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      },
    };
  }

  /** Replaces a project's catalog if it is still at `expectedVersion` and the project exists. */
  async putCatalog(catalog: StoredCatalog, expectedVersion: number | null): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: referenceKey('project', catalog.project_id),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            this.catalogPut(catalog, expectedVersion),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellation(error)?.failedConditions.length) return false;
      return translateStoreError(error);
    }
  }

  private toItem(type: ReferenceType, item: ReferenceItem) {
    return {
      ...referenceKey(type, item.id),
      type,
      [INDEXES.byKind.partitionKey]: kindPartition(type),
      [INDEXES.byKind.sortKey]: item.id,
      ...item,
    };
  }
}

/**
 * API key items: APIKEY#<key id> / APIKEY, listed through the by-kind index (partition APIKEY).
 * The secret is never stored, only its SHA-256 digest (`secret_hash`).
 */

import { queryAllOfKind } from '../db/by-kind';
import {
  type DocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '../db/commands';
import { cancellation, isConditionFailure, translateStoreError } from '../db/errors';
import { withoutKeys } from '../db/items';
import {
  API_KEYS_PARTITION,
  apiKeyIdFor,
  apiKeyItemKey,
  BOOTSTRAP_MARKER_KEY,
  legacyApiKeyItemKey,
} from './api-key';
import type { Scope } from './principal';

export interface ApiKeyRecord {
  key_id: string;
  name: string;
  scopes: Scope[];
  /** SHA-256 of the secret, hex. */
  secret_hash: string;
  /** The first characters of the secret, for recognising it in lists. */
  secret_hint: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
  /** The user this key belongs to (an API token of theirs); absent for keys of no one. */
  owner?: string | null;
}

const strip = (item: Record<string, unknown>) => withoutKeys<ApiKeyRecord>(item);

export class ApiKeyRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  private item(record: ApiKeyRecord) {
    return {
      ...apiKeyItemKey(record.key_id),
      type: 'api_key',
      gsi5pk: API_KEYS_PARTITION,
      gsi5sk: record.key_id,
      ...record,
    };
  }

  async findById(keyId: string): Promise<ApiKeyRecord | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: apiKeyItemKey(keyId), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? strip(res.Item) : null;
  }

  /**
   * A key stored by an older version (keyed by its full digest, no secret_hash): copied to its
   * id-keyed item on first use, so it can be listed and revoked. Null if there is none.
   */
  async migrateLegacy(digest: string): Promise<ApiKeyRecord | null> {
    const res = await this.db
      .send(
        new GetCommand({ TableName: this.tableName, Key: legacyApiKeyItemKey(digest), ConsistentRead: true }),
      )
      .catch(translateStoreError);
    if (!res.Item) return null;
    const old = res.Item as Partial<ApiKeyRecord> & { name: string; scopes: Scope[]; created_at: string };
    const record: ApiKeyRecord = {
      key_id: apiKeyIdFor(digest),
      name: old.name,
      scopes: old.scopes,
      secret_hash: digest,
      secret_hint: 'bst_…',
      created_at: old.created_at,
      created_by: old.created_by ?? 'system:bootstrap',
      expires_at: old.expires_at ?? null,
      revoked_at: old.revoked_at ?? null,
      revoked_by: null,
      last_used_at: null,
    };
    if (!(await this.create(record))) return this.findById(record.key_id);
    return record;
  }

  /** Stores a new key; false if its id is taken. */
  async create(record: ApiKeyRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  /** Stores (or re-stores, un-revoking) a key. Used for operator-chosen bootstrap keys, which are upserts. */
  async put(record: ApiKeyRecord): Promise<void> {
    await this.db
      .send(new PutCommand({ TableName: this.tableName, Item: this.item(record) }))
      .catch(translateStoreError);
  }

  /** Stores a generated admin key only if no admin key was ever generated; false if one was. */
  async putFirstAdminKey(record: ApiKeyRecord): Promise<boolean> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...BOOTSTRAP_MARKER_KEY,
                  type: 'meta',
                  key_id: record.key_id,
                  created_at: record.created_at,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: this.item(record) } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellation(error)?.failedConditions.includes(0)) return false;
      return translateStoreError(error);
    }
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await queryAllOfKind(this.db, this.tableName, API_KEYS_PARTITION)).map(strip);
  }

  /** Sets revoked_at once; returns the record as it now is, or null if there is no such key. */
  async revoke(keyId: string, at: string, by: string): Promise<ApiKeyRecord | null> {
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: apiKeyItemKey(keyId),
          UpdateExpression: 'SET revoked_at = :at, revoked_by = :by',
          ConditionExpression: 'attribute_exists(pk) AND attribute_type(revoked_at, :null)',
          ExpressionAttributeValues: { ':at': at, ':by': by, ':null': 'NULL' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip(res.Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return this.findById(keyId);
      return translateStoreError(error);
    }
  }

  /** Records use; cheap and unconditional except that it never resurrects a deleted item. */
  async touch(keyId: string, at: string): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: apiKeyItemKey(keyId),
          UpdateExpression: 'SET last_used_at = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      )
      .catch((error) => {
        if (!isConditionFailure(error)) return translateStoreError(error);
      });
  }
}

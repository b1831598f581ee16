import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { cancellation, translateStoreError } from '../db/errors';
import { apiKeyItemKey, BOOTSTRAP_MARKER_KEY } from './api-key';
import type { Scope } from './principal';

export interface ApiKeyRecord {
  key_id: string;
  name: string;
  scopes: Scope[];
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export class ApiKeyRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findByDigest(digest: string): Promise<ApiKeyRecord | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: apiKeyItemKey(digest) }))
      .catch(translateStoreError);
    return (res.Item as ApiKeyRecord | undefined) ?? null;
  }

  /** Stores (or re-stores) a key by digest. Used for operator-chosen keys, which are upserts. */
  async put(digest: string, record: ApiKeyRecord): Promise<void> {
    await this.db
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...apiKeyItemKey(digest), type: 'api_key', ...record },
        }),
      )
      .catch(translateStoreError);
  }

  /** Stores a generated admin key only if no admin key was ever generated; false if one was. */
  async putFirstAdminKey(digest: string, record: ApiKeyRecord): Promise<boolean> {
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
            {
              Put: {
                TableName: this.tableName,
                Item: { ...apiKeyItemKey(digest), type: 'api_key', ...record },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellation(error)?.failedConditions.includes(0)) return false;
      return translateStoreError(error);
    }
  }
}

/** Trust policy items: TRUSTPOLICY#<id> / TRUSTPOLICY, listed through the by-kind index (partition TRUSTPOLICY). */

import type { Scope } from '../auth/principal';
import { queryAllOfKind } from '../db/by-kind';
import { type DocumentClient, GetCommand, PutCommand, UpdateCommand } from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { withoutKeys } from '../db/items';
import type { ClaimCondition } from './trust-policy.schema';

export const TRUST_POLICIES_PARTITION = 'TRUSTPOLICY';
export const trustPolicyKey = (id: string) => ({ pk: `TRUSTPOLICY#${id}`, sk: 'TRUSTPOLICY' });

export interface TrustPolicyRecord {
  id: string;
  issuer: string;
  audience: string;
  claims: Record<string, ClaimCondition>;
  scopes: Scope[];
  token_ttl_s: number | null;
  created_at: string;
  created_by: string;
  deleted_at: string | null;
  deleted_by: string | null;
}

const strip = (item: Record<string, unknown>) => withoutKeys<TrustPolicyRecord>(item);

export class TrustPolicyRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores a new policy; false if its id is taken (deleted policies keep theirs). */
  async create(record: TrustPolicyRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...trustPolicyKey(record.id),
            type: 'trust_policy',
            gsi5pk: TRUST_POLICIES_PARTITION,
            gsi5sk: record.id,
            ...record,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async get(id: string): Promise<TrustPolicyRecord | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: trustPolicyKey(id), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? strip(res.Item) : null;
  }

  async list(): Promise<TrustPolicyRecord[]> {
    return (await queryAllOfKind(this.db, this.tableName, TRUST_POLICIES_PARTITION)).map(strip);
  }

  /** Sets deleted_at once; the policy as it now is, or null if there is none. */
  async softDelete(id: string, at: string, by: string): Promise<TrustPolicyRecord | null> {
    try {
      const res = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: trustPolicyKey(id),
          UpdateExpression: 'SET deleted_at = :at, deleted_by = :by',
          ConditionExpression: 'attribute_exists(pk) AND attribute_type(deleted_at, :null)',
          ExpressionAttributeValues: { ':at': at, ':by': by, ':null': 'NULL' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip(res.Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return this.get(id);
      return translateStoreError(error);
    }
  }
}

/** User items: USER#<username> / USER, listed through the by-kind index (partition USER). */

import { queryAllOfKind } from '../db/by-kind';
import { type DocumentClient, GetCommand, PutCommand } from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { withoutKeys } from '../db/items';
import type { Scope } from './principal';

export interface UserRecord {
  username: string;
  email: string;
  scopes: Scope[];
  password_hash: string;
  version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  deactivated_at: string | null;
  deactivated_by: string | null;
}

const USERS_PARTITION = 'USER';
export const userKey = (username: string) => ({ pk: `USER#${username}`, sk: 'USER' });
const strip = (item: Record<string, unknown>) => withoutKeys<UserRecord>(item);

export class UserRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  async get(username: string): Promise<UserRecord | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: userKey(username), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? strip(res.Item) : null;
  }

  /**
   * Writes the user: a new one only if the name is free (`expectedVersion` null), a changed one
   * only if nobody changed it since it was read. False if the condition failed.
   */
  async put(user: UserRecord, expectedVersion: number | null): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...userKey(user.username),
            type: 'user',
            gsi5pk: USERS_PARTITION,
            gsi5sk: user.username,
            ...user,
          },
          ...(expectedVersion === null
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'version = :v',
                ExpressionAttributeValues: { ':v': expectedVersion },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async list(): Promise<UserRecord[]> {
    return (await queryAllOfKind(this.db, this.tableName, USERS_PARTITION)).map(strip);
  }
}

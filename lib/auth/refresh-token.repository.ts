/**
 * Refresh tokens, stored by hash only. Two kinds of item:
 * - `REFRESH#<sha256 of the token>` / `REFRESH`: one token of a login — its family, user, expiry,
 *   and once rotated `used_at` (a used token is never accepted again);
 * - `REFRESHFAMILY#<family id>` / `REFRESHFAMILY`: the login (one `auth login` and every token
 *   rotated from it) — `revoked_at` once revoked.
 * Both carry `ttl` (epoch seconds) so DynamoDB removes them some time after they expire.
 */
import { type DocumentClient, GetCommand, UpdateCommand } from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { withoutKeys } from '../db/items';
import { Transaction } from '../db/transaction';

export interface RefreshTokenRecord {
  token_hash: string;
  family_id: string;
  username: string;
  created_at: string;
  expires_at: string;
  /** When it was traded for its successor; null while it is the live token of its family. */
  used_at: string | null;
}

export interface RefreshFamilyRecord {
  family_id: string;
  username: string;
  created_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export const refreshTokenKey = (hash: string) => ({ pk: `REFRESH#${hash}`, sk: 'REFRESH' });
export const refreshFamilyKey = (familyId: string) => ({
  pk: `REFRESHFAMILY#${familyId}`,
  sk: 'REFRESHFAMILY',
});
const epoch = (iso: string) => Math.ceil(Date.parse(iso) / 1000);

export type RotateResult = 'rotated' | 'reused' | 'revoked';

export class RefreshTokenRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  async get(hash: string): Promise<RefreshTokenRecord | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: refreshTokenKey(hash), ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ? withoutKeys<RefreshTokenRecord>(res.Item) : null;
  }

  async family(familyId: string): Promise<RefreshFamilyRecord | null> {
    const res = await this.db
      .send(
        new GetCommand({ TableName: this.tableName, Key: refreshFamilyKey(familyId), ConsistentRead: true }),
      )
      .catch(translateStoreError);
    return res.Item ? withoutKeys<RefreshFamilyRecord>(res.Item) : null;
  }

  /** A new login: its family and its first token, together. */
  async start(family: RefreshFamilyRecord, token: RefreshTokenRecord): Promise<void> {
    const result = await new Transaction()
      .add('family', {
        Put: {
          TableName: this.tableName,
          Item: {
            ...refreshFamilyKey(family.family_id),
            type: 'refresh_family',
            ...family,
            ttl: epoch(token.expires_at),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })
      .add('token', this.putToken(token))
      .send(this.db);
    if (!result.committed) throw new Error('refresh token or family id collision');
  }

  /**
   * Trades `old` for `next` in one transaction: `old` becomes used (only if it was not used
   * already), `next` is written, the family is checked not revoked (and its expiry moved on).
   */
  async rotate(old: RefreshTokenRecord, next: RefreshTokenRecord, at: string): Promise<RotateResult> {
    const result = await new Transaction()
      .add('old', {
        Update: {
          TableName: this.tableName,
          Key: refreshTokenKey(old.token_hash),
          UpdateExpression: 'SET used_at = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_type(used_at, :null)',
          ExpressionAttributeValues: { ':at': at, ':null': 'NULL' },
        },
      })
      .add('family', {
        Update: {
          TableName: this.tableName,
          Key: refreshFamilyKey(old.family_id),
          UpdateExpression: 'SET #ttl = :ttl',
          ConditionExpression: 'attribute_exists(pk) AND attribute_type(revoked_at, :null)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':ttl': epoch(next.expires_at), ':null': 'NULL' },
        },
      })
      .add('next', this.putToken(next))
      .send(this.db);
    if (result.committed) return 'rotated';
    if (result.failed.has('family')) return 'revoked';
    if (result.failed.has('old')) return 'reused';
    // A conflict with a concurrent rotation of the same token: one of them won, this one did not.
    return 'reused';
  }

  /** Revokes a login and so every token of it, whichever was presented. Idempotent. */
  async revokeFamily(familyId: string, at: string, reason: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: refreshFamilyKey(familyId),
          UpdateExpression: 'SET revoked_at = :at, revoked_reason = :reason',
          ConditionExpression: 'attribute_exists(pk) AND attribute_type(revoked_at, :null)',
          ExpressionAttributeValues: { ':at': at, ':reason': reason, ':null': 'NULL' },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      translateStoreError(error);
    }
  }

  private putToken(token: RefreshTokenRecord) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...refreshTokenKey(token.token_hash),
          type: 'refresh_token',
          ...token,
          ttl: epoch(token.expires_at),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }
}

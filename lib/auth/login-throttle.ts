/**
 * Password guessing brake for POST /auth/token: after MAX_FAILURES wrong passwords for one
 * username within WINDOW_SECONDS, that username gets 429 until the window ends, without a password
 * check (so no scrypt work is spent on it either). Unknown usernames are counted the same way, so
 * the answer never tells whether a user exists. A success resets the count. One small item per
 * username (`LOGINFAIL#<username>`), removed by TTL after its window.
 */
import { type DocumentClient, GetCommand, PutCommand, UpdateCommand } from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { AppError } from '../errors';

export const MAX_FAILURES = 5;
export const WINDOW_SECONDS = 900;

const key = (username: string) => ({ pk: `LOGINFAIL#${username}`, sk: 'LOGINFAIL' });

export class LoginThrottle {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Throws 429 while the username is locked; returns the failures counted in the current window. */
  async check(username: string): Promise<number> {
    const now = this.clock().getTime();
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: key(username), ConsistentRead: true }))
      .catch(translateStoreError);
    const item = res.Item as { failures?: number; window_start_ms?: number } | undefined;
    if (!item?.window_start_ms || item.window_start_ms + WINDOW_SECONDS * 1000 <= now) return 0;
    const failures = item.failures ?? 0;
    if (failures >= MAX_FAILURES) {
      const retryAfter = Math.ceil((item.window_start_ms + WINDOW_SECONDS * 1000 - now) / 1000);
      throw new AppError(
        'too_many_requests',
        `Too many failed sign-ins for this username; try again in ${retryAfter} s`,
        { retry_after_s: retryAfter },
      );
    }
    return failures;
  }

  async failed(username: string): Promise<void> {
    const now = this.clock().getTime();
    const ttl = Math.ceil(now / 1000) + WINDOW_SECONDS;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(username),
          UpdateExpression: 'ADD failures :one',
          ConditionExpression: 'window_start_ms > :cutoff',
          ExpressionAttributeValues: { ':one': 1, ':cutoff': now - WINDOW_SECONDS * 1000 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) return translateStoreError(error);
      // No open window: this failure starts one.
      await this.db
        .send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key(username), type: 'login_failures', failures: 1, window_start_ms: now, ttl },
          }),
        )
        .catch(translateStoreError);
    }
  }

  async succeeded(username: string, counted: number): Promise<void> {
    if (counted === 0) return;
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(username),
          UpdateExpression: 'SET failures = :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      )
      .catch(translateStoreError);
  }
}

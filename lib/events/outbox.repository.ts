/**
 * Events that are not a build change (stuck attempts) are written as outbox items, and the change
 * stream publishes them like any other. The item's key is the dedup flag: one per attempt and
 * kind, written only while that attempt is still the running one.
 */

import { buildKey } from '../builds/build.keys';
import { liveKey } from '../builds/live.item';
import type { StuckAttempt, StuckKind } from '../dashboard/stuck';
import { type DocumentClient, TransactWriteCommand } from '../db/commands';
import { cancellation, translateStoreError } from '../db/errors';
import { DETAIL_TYPES, OUTBOX_PREFIX, OUTBOX_TTL_SECONDS } from './events';

export const stuckEventKey = (buildId: string, kind: StuckKind, code: number, attempt: number) => ({
  pk: buildKey(buildId).pk,
  sk: `${OUTBOX_PREFIX}stuck#${kind}#${String(code).padStart(3, '0')}#${attempt}`,
});

export class OutboxRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  /** True if this call recorded the event; false if it was recorded before or the attempt moved on. */
  async recordStuck(
    stuck: StuckAttempt & { state_name: string | null },
    kind: StuckKind,
    now: Date,
  ): Promise<boolean> {
    const key = stuckEventKey(stuck.build_id, kind, stuck.state_code, stuck.attempt);
    const { kinds: _all, ...attempt } = stuck;
    const detail = {
      dedup_key: `${stuck.build_id}:stuck:${kind}:${stuck.state_code}:${stuck.attempt}`,
      kind,
      ...attempt,
      detected_at: now.toISOString(),
    };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...key,
                  type: 'event',
                  detail_type: DETAIL_TYPES.stuck,
                  detail,
                  created_at: now.toISOString(),
                  ttl: Math.floor(now.getTime() / 1000) + OUTBOX_TTL_SECONDS,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: liveKey(stuck.build_id),
                ConditionExpression: '#s = :running AND #c = :code AND #a = :attempt',
                ExpressionAttributeNames: { '#s': 'state_status', '#c': 'current_state', '#a': 'attempt' },
                ExpressionAttributeValues: {
                  ':running': 'in_progress',
                  ':code': stuck.state_code,
                  ':attempt': stuck.attempt,
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellation(error)?.failedConditions.length) return false;
      return translateStoreError(error);
    }
  }
}

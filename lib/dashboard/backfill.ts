/**
 * Upgrading a table made before live items existed: every build without a live item (or with only
 * a stub a lease or heartbeat call left) gets one. The stream aggregator counts a build in the
 * summary (total, status, platform) when its live item first carries its fields, so this is what
 * counts the builds that have not changed since; a build that changes first gets its live item
 * from that change and is counted then. Either way once: the live item's project_id is the flag.
 * A marker item makes later runs cost one read. Failed attempts by state, day outcomes and
 * durations of earlier builds are not reconstructed.
 */

import { ALL_BUILDS_PARTITION } from '../builds/build.keys';
import type { Build } from '../builds/build.model';
import { LIVE_MARK, LIVE_SK, liveUpdate } from '../builds/live.item';
import { type DocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '../db/commands';
import { isConditionFailure } from '../db/errors';
import { batchGetAll, withoutKeys } from '../db/items';
import { INDEXES } from '../db/table-definition';

const MARKER = { pk: 'META#MIGRATION#dashboard-v1', sk: 'META' };
/** Builds per page: each page reads the build and live item of each (one BatchGetItem of 100 keys). */
const PAGE = 50;

export interface BackfillResult {
  skipped: boolean;
  builds_seen: number;
  backfilled: number;
}

export async function backfillDashboard(
  db: DocumentClient,
  tableName: string,
  now: () => Date = () => new Date(),
): Promise<BackfillResult> {
  const done = await db.send(new GetCommand({ TableName: tableName, Key: MARKER, ConsistentRead: true }));
  if (done.Item) return { skipped: true, builds_seen: 0, backfilled: 0 };
  let seen = 0;
  let backfilled = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: INDEXES.byCreated.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': INDEXES.byCreated.partitionKey },
        ExpressionAttributeValues: { ':p': ALL_BUILDS_PARTITION },
        Limit: PAGE,
        ExclusiveStartKey: start,
      }),
    );
    start = page.LastEvaluatedKey;
    const pks = (page.Items ?? []).map((i) => i.pk as string);
    seen += pks.length;
    if (pks.length === 0) continue;
    const items = await batchGetAll(
      db,
      tableName,
      [...pks.map((pk) => ({ pk, sk: 'BUILD' })), ...pks.map((pk) => ({ pk, sk: LIVE_SK }))],
      { consistent: true },
    );
    const adopted = new Set(
      items.filter((i) => i.sk === LIVE_SK && i[LIVE_MARK] !== undefined).map((i) => i.pk),
    );
    for (const item of items.filter((i) => i.sk === 'BUILD' && !adopted.has(i.pk))) {
      if (await adoptBuild(db, tableName, withoutKeys<Build>(item), now().getTime())) backfilled++;
    }
  } while (start);
  await db.send(
    new PutCommand({
      TableName: tableName,
      Item: { ...MARKER, builds_seen: seen, backfilled, finished_at: now().toISOString() },
    }),
  );
  return { skipped: false, builds_seen: seen, backfilled };
}

/**
 * Gives one build from before live items its live item, unless a build change already did (the
 * live item's project_id is the flag); the stream aggregator counts it from that write. Keeps any
 * lease fields a lease or heartbeat call left on a stub live item. True if this call wrote it.
 */
export async function adoptBuild(db: DocumentClient, tableName: string, build: Build, _nowMs: number) {
  const live = liveUpdate(tableName, build).Update!;
  try {
    await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: live.Key,
        UpdateExpression: live.UpdateExpression,
        ExpressionAttributeValues: live.ExpressionAttributeValues,
        ConditionExpression: 'attribute_not_exists(#mark)',
        ExpressionAttributeNames: { ...live.ExpressionAttributeNames, '#mark': LIVE_MARK },
      }),
    );
    return true;
  } catch (error) {
    // A change gave it a live item first: it is counted from that one.
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

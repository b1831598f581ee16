/**
 * Upgrading a table from the version that counted inside each change's transaction: the new
 * aggregator reads the stream from its start (TRIM_HORIZON, as the Lambda's mapping does), where
 * up to 24 hours of that version's changes still are, and counts none of them again; this
 * version's changes (stamped `counted_by: 'stream'`) count once. On DynamoDB Local's real
 * stream, with the old version's writes replayed as it made them: the same build, history and
 * live items without the stamp, and the counters in the same transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndexKeys, buildKey, historyKey } from '../../../lib/builds/build.keys';
import { type Build, type Change, COUNTED_BY } from '../../../lib/builds/build.model';
import { liveKey, liveUpdate } from '../../../lib/builds/live.item';
import { applyCancel, applyReport, newBuild } from '../../../lib/builds/transitions';
import { type ChangeRecord, countsOf, mergeDeltas } from '../../../lib/dashboard/aggregates';
import { GetCommand, TransactWriteCommand } from '../../../lib/db/commands';
import { services } from '../../../lib/runtime';
import { startEventStream } from '../../../local/event-stream';
import { ctx } from '../../helpers/builds';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { streamRecords, summaryCounters } from '../../helpers/stream';

let stack: TestStack;
const dir = mkdtempSync(join(tmpdir(), 'bs-cutover-'));
beforeAll(async () => {
  // No consumer of its own: the old version's writes go first, then the new consumer starts.
  stack = await startTestStack();
});
afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

const actor = { id: 'key:cut', type: 'api_key' as const, name: 'cut', scopes: ['write' as const] };

const counters = () => summaryCounters(stack.tableName);

/** A change written the way the version before did: its items without the stamp, its counters in the same transaction. */
async function oldVersionWrite(change: Change) {
  const { db } = services();
  const { build, history } = change;
  const live = liveUpdate(stack.tableName, build).Update!;
  const names = live.ExpressionAttributeNames!;
  const stamp = Object.keys(names).find((n) => names[n] === COUNTED_BY)!;
  const value = stamp.replace('#', ':');
  delete names[stamp];
  delete live.ExpressionAttributeValues![value];
  live.UpdateExpression = live
    .UpdateExpression!.replace(`${stamp} = ${value}, `, '')
    .replace(`, ${stamp} = ${value}`, '');
  const { counted_by: _, ...oldHistory } = history;
  // What it counted: the same sums this version's aggregator takes from the same change.
  const before = (await db.send(new GetCommand({ TableName: stack.tableName, Key: liveKey(build.id) }))).Item;
  const stamped: ChangeRecord[] = [
    { eventName: 'INSERT', sequence: '', newImage: { type: 'history', ...history } },
    {
      eventName: before ? 'MODIFY' : 'INSERT',
      sequence: '',
      ...(before ? { oldImage: { ...before, [COUNTED_BY]: 'stream' } } : {}),
      newImage: { ...liveKey(build.id), ...build, type: 'live', build_id: build.id, [COUNTED_BY]: 'stream' },
    },
  ];
  const deltas = mergeDeltas(stamped.flatMap((r) => countsOf(r)?.deltas ?? []));
  await db.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: stack.tableName,
            Item: { ...buildKey(build.id), ...buildIndexKeys(build), type: 'build', ...build },
          },
        },
        {
          Put: {
            TableName: stack.tableName,
            Item: { ...historyKey(build.id, history.seq), type: 'history', ...oldHistory },
          },
        },
        { Update: { ...live, TableName: stack.tableName } },
        ...deltas.map((d) => {
          const adds = [...d.add];
          return {
            Update: {
              TableName: stack.tableName,
              Key: d.key,
              UpdateExpression: `ADD ${adds.map((_, i) => `#a${i} :a${i}`).join(', ')}`,
              ExpressionAttributeNames: Object.fromEntries(adds.map(([n], i) => [`#a${i}`, n])),
              ExpressionAttributeValues: Object.fromEntries(adds.map(([, v], i) => [`:a${i}`, v])),
            },
          };
        }),
      ],
    }),
  );
  return build;
}

async function consume(checkpointFile: string) {
  const consumer = await startEventStream({
    endpoint: process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    region: 'us-east-1',
    retryLoopAfter: 2,
    checkpointFile,
    publish: false,
    pollMs: 50,
  });
  await consumer.drain();
  await consumer.stop();
  return consumer.aggregation;
}

it('counts none of what the old version counted in its transactions, and what this version commits once', async () => {
  const now = new Date().toISOString();
  const create = (id: string) =>
    newBuild(
      id,
      { project_id: 'default', platform_id: 'gcp', image_type_id: 'rhel9', metadata: {} },
      ctx({ now }),
    );
  const builds: Record<string, Build> = {};
  for (const id of ['cut-1', 'cut-2', 'cut-3']) builds[id] = await oldVersionWrite(create(id));
  builds['cut-1'] = await oldVersionWrite(
    applyReport(builds['cut-1']!, { state_code: 5, status: 'in_progress' }, ctx({ now })),
  );
  builds['cut-1'] = await oldVersionWrite(
    applyReport(builds['cut-1']!, { state_code: 5, status: 'failed', error: 'x' }, ctx({ now })),
  );
  await oldVersionWrite(applyCancel(builds['cut-3']!, { reason: 'no' }, ctx({ now })));
  const byOldVersion = await counters();
  expect(byOldVersion).toMatchObject({
    builds_total: 3,
    'status:pending': 1,
    'status:failed': 1,
    'status:cancelled': 1,
    'platform:gcp:pending': 1,
    'failed_attempts:5': 1,
  });
  // Those changes are in the stream; stamped, they would count (control): unstamped, nothing does.
  const old = (await streamRecords(stack.tableName)).filter((r) =>
    String(r.newImage?.pk ?? '').startsWith('BUILD#cut-'),
  );
  expect(old.map(countsOf).filter((c) => c !== null)).toEqual([]);
  const asIfStamped = old.map((r) => countsOf({ ...r, newImage: { ...r.newImage, [COUNTED_BY]: 'stream' } }));
  expect(asIfStamped.filter((c) => c !== null).length).toBeGreaterThanOrEqual(6);

  // The new consumer reads the whole stream from its start, and counts none of it again.
  const checkpoint = join(dir, 'checkpoint.json');
  const first = await consume(checkpoint);
  expect(first.applied).toBe(0);
  expect(await counters()).toEqual(byOldVersion);

  // This version's changes on the same builds, and a new one: each counts, once.
  const { builds: service } = services();
  await service.report('cut-2', { state_code: 5, status: 'in_progress' }, actor);
  await service.report('cut-1', { state_code: 5, status: 'in_progress' }, actor);
  await service.create(
    { id: 'cut-4', project_id: 'default', platform_id: 'gcp', image_type_id: 'rhel9', metadata: {} },
    actor,
  );
  const next = await consume(checkpoint);
  expect(next.applied).toBe(3); // the three live items; those history entries count nothing
  const after = {
    builds_total: 4,
    'status:pending': 1,
    'status:in_progress': 2,
    'status:failed': 0,
    'status:cancelled': 1,
    'platform:gcp:pending': 1,
    'platform:gcp:in_progress': 2,
    'failed_attempts:5': 1,
  };
  expect(await counters()).toMatchObject(after);

  // A consumer from scratch (a new event source mapping, a lost checkpoint): nothing moves.
  rmSync(checkpoint);
  const again = await consume(checkpoint);
  expect([again.applied, again.duplicates]).toEqual([0, next.applied]);
  expect(await counters()).toMatchObject(after);
});

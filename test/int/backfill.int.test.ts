/** A table from before live items and counters: its builds are counted once, and only once. */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { buildIndexKeys, buildKey } from '../../lib/builds/build.keys';
import { backfillDashboard } from '../../lib/dashboard/backfill';
import { services } from '../../lib/runtime';
import { buildAt } from '../helpers/builds';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

it('gives earlier builds a live item and counts them once', async () => {
  const { db } = services();
  // Two builds written the way the previous version did: build item only, no live item, no counters.
  const legacy = [
    buildAt({
      id: 'old-1',
      platform_id: 'azure',
      status: 'completed',
      created_at: '2026-01-01T00:00:00.000Z',
    }),
    buildAt({
      id: 'old-2',
      platform_id: 'azure',
      status: 'in_progress',
      current_state: 40,
      state_status: 'in_progress',
      attempt: 1,
      created_at: '2026-01-02T00:00:00.000Z',
    }),
  ];
  for (const b of legacy)
    await db.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: { ...buildKey(b.id), ...buildIndexKeys(b), type: 'build', ...b },
      }),
    );
  await stack.call('POST', '/builds', { id: 'new-1', platform_id: 'azure', image_type_id: 'rhel9' });
  // npm start ran the migration on the empty table already; pretend this table is an old one.
  await db.send(
    new DeleteCommand({ TableName: stack.tableName, Key: { pk: 'META#MIGRATION#dashboard-v1', sk: 'META' } }),
  );

  expect(await backfillDashboard(db, stack.tableName)).toEqual({
    skipped: false,
    builds_seen: 3,
    backfilled: 2,
  });
  expect(await backfillDashboard(db, stack.tableName)).toEqual({
    skipped: true,
    builds_seen: 0,
    backfilled: 0,
  });
  await db.send(
    new DeleteCommand({ TableName: stack.tableName, Key: { pk: 'META#MIGRATION#dashboard-v1', sk: 'META' } }),
  );
  expect(await backfillDashboard(db, stack.tableName)).toMatchObject({ backfilled: 0 });

  const summary = (await stack.call('GET', '/dashboard/summary')).body;
  expect(summary.builds.by_platform.azure).toMatchObject({
    total: 3,
    by_status: { pending: 1, in_progress: 1, completed: 1 },
  });
  expect(summary.active.items.map((a: { build_id: string }) => a.build_id)).toEqual(['old-2']);
  // The old running build now takes leases and heartbeats like any other.
  expect((await stack.call('POST', '/builds/old-2/lease', { worker_id: 'w' })).status).toBe(201);
});

/** A table from before live items and counters: its builds are counted once, and only once. */

import { buildIndexKeys, buildKey } from '../../../lib/builds/build.keys';
import { backfillDashboard } from '../../../lib/dashboard/backfill';
import { DeleteCommand, PutCommand } from '../../../lib/db/commands';
import { services } from '../../../lib/runtime';
import { buildAt } from '../../helpers/builds';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
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

  await stack.events!.drain();
  const summary = (await stack.call('GET', '/dashboard/summary')).body;
  expect(summary.builds.by_platform.azure).toMatchObject({
    total: 3,
    by_status: { pending: 1, in_progress: 1, completed: 1 },
  });
  expect(summary.active.items.map((a: { build_id: string }) => a.build_id)).toEqual(['old-2']);
  // The old running build now takes leases and heartbeats like any other.
  expect((await stack.call('POST', '/builds/old-2/lease', { worker_id: 'w' })).status).toBe(201);
});

it('counts an earlier build on its first change, once, and moves it from there', async () => {
  const { db } = services();
  const old = buildAt({
    id: 'old-3',
    platform_id: 'x',
    status: 'in_progress',
    current_state: 40,
    state_status: 'in_progress',
    attempt: 1,
    version: 7,
    created_at: '2026-01-03T00:00:00.000Z',
  });
  await db.send(
    new PutCommand({
      TableName: stack.tableName,
      Item: { ...buildKey(old.id), ...buildIndexKeys(old), type: 'build', ...old },
    }),
  );
  // A heartbeat first (it leaves a stub live item), then a report, then another report.
  expect((await stack.call('POST', '/builds/old-3/heartbeat', { worker_id: 'w' })).status).toBe(200);
  const failed = await stack.call('POST', '/builds/old-3/states', {
    state_code: 40,
    status: 'failed',
    error: 'e',
  });
  expect([failed.status, failed.body.version]).toEqual([201, 8]);
  await stack.call('POST', '/builds/old-3/cancel', { reason: 'done' });

  await stack.events!.drain();
  const summary = (await stack.call('GET', '/dashboard/summary')).body;
  expect(summary.builds.by_platform.x).toMatchObject({
    total: 1,
    by_status: { in_progress: 0, failed: 0, cancelled: 1 },
  });
  // The batch backfill finds it adopted and leaves it alone.
  await db.send(
    new DeleteCommand({ TableName: stack.tableName, Key: { pk: 'META#MIGRATION#dashboard-v1', sk: 'META' } }),
  );
  expect(await backfillDashboard(db, stack.tableName)).toMatchObject({ backfilled: 0 });
});

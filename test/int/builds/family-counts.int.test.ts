/**
 * /dashboard/summary counts a fork's family once: a parent that fanned out and waits on its
 * children is in_progress in by_status (which sums to total) and `fanned_out`, not active work
 * next to them, until it reports again.
 * On the real engine and its stream, with every record delivered again afterwards (the parent's
 * mark and its move are applied once).
 */
import { Aggregator } from '../../../lib/dashboard/aggregator';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { streamRecords, summaryCounters } from '../../helpers/stream';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
});
afterAll(() => stack.stop());

const report = async (id: string, state_code: number, status: string) =>
  expect((await stack.call('POST', `/builds/${id}/states`, { state_code, status })).status).toBe(201);

async function summary() {
  await stack.events!.drain();
  const res = await stack.call('GET', '/dashboard/summary');
  expect(res.status).toBe(200);
  return res.body;
}

/** The raw summary counters, summed over shards. */
const counters = () => summaryCounters(stack.tableName);

/** Every record of the stream delivered again, twice, by a consumer of its own: nothing may move. */
async function redeliverEverything() {
  const before = await counters();
  const records = await streamRecords(stack.tableName);
  const again = new Aggregator(services().db, stack.tableName);
  for (let i = 0; i < 2; i++) {
    const result = await again.apply(records);
    expect(result.applied).toBe(0);
    expect(result.fanned_out).toBe(0);
  }
  expect(await counters()).toEqual(before);
}

it('counts a parent waiting on its children as fanned_out, and as running again once it reports', async () => {
  expect(
    (await stack.call('POST', '/builds', { id: 'fam-base', platform_id: 'aws', image_type_id: 'rhel9' }))
      .status,
  ).toBe(201);
  for (const code of [10, 20, 30]) await report('fam-base', code, 'completed');
  const alone = await summary();
  expect(alone.builds).toMatchObject({ total: 1, fanned_out: 0 });
  expect(alone.builds.by_status.in_progress).toBe(1);

  const fork = await stack.call('POST', '/builds/fam-base/fork', {
    at_state: 30,
    children: [
      { id: 'fam-aws', platform_id: 'aws' },
      { id: 'fam-azure-1', platform_id: 'azure' },
      { id: 'fam-azure-2', platform_id: 'azure' },
    ],
  });
  expect(fork.status).toBe(201);
  const family = await summary();
  // Four builds, all in_progress (by_status sums to total); one of them a parent waiting, not active work.
  expect(family.builds.total).toBe(4);
  expect(family.builds.fanned_out).toBe(1);
  expect(family.builds.by_status).toMatchObject({ in_progress: 4, pending: 0 });
  expect(family.builds.by_platform.aws).toMatchObject({ total: 2, fanned_out: 1 });
  expect(family.builds.by_platform.aws.by_status.in_progress).toBe(2);
  expect(family.builds.by_platform.azure).toMatchObject({ total: 2, fanned_out: 0 });
  expect(family.active.count).toBe(3);
  // GET /status reads the same counters: the waiting parent is fanned_out there too, and in_progress.
  const status = (await stack.call('GET', '/status')).body.builds;
  expect(status).toMatchObject({ total: 4, fanned_out: 1 });
  expect(status.by_status.in_progress).toBe(4);
  expect(family.active.items.map((a: { build_id: string }) => a.build_id).sort()).toEqual([
    'fam-aws',
    'fam-azure-1',
    'fam-azure-2',
  ]);
  // The parent's own status is unchanged: in_progress by its own states (API.md, Fan-out).
  expect((await stack.call('GET', '/builds/fam-base')).body.status).toBe('in_progress');
  await redeliverEverything();

  // A child failing is a failed build; the parent still waits.
  await report('fam-azure-1', 40, 'failed');
  const failed = await summary();
  expect(failed.builds).toMatchObject({ total: 4, fanned_out: 1 });
  expect(failed.builds.by_status).toMatchObject({ in_progress: 3, failed: 1 });

  // The parent reports again: it is doing its own work, so it is running again, not waiting.
  await report('fam-base', 40, 'in_progress');
  const working = await summary();
  expect(working.builds).toMatchObject({ total: 4, fanned_out: 0 });
  expect(working.builds.by_status).toMatchObject({ in_progress: 3, failed: 1 });
  expect(working.active.count).toBe(4);
  expect(working.active.items.map((a: { build_id: string }) => a.build_id)).toContain('fam-base');
  await redeliverEverything();

  // A second fork, from where it is now: waiting again; then it completes: a completed build.
  await report('fam-base', 40, 'completed');
  expect(
    (
      await stack.call('POST', '/builds/fam-base/fork', {
        at_state: 40,
        children: [{ id: 'fam-gcp', platform_id: 'gcp' }],
      })
    ).status,
  ).toBe(201);
  const again = await summary();
  expect(again.builds).toMatchObject({ total: 5, fanned_out: 1 });
  expect(again.builds.by_status).toMatchObject({ in_progress: 4, failed: 1 });
  await report('fam-base', 100, 'completed');
  const done = await summary();
  expect(done.builds).toMatchObject({ total: 5, fanned_out: 0 });
  expect(done.builds.by_status).toMatchObject({ in_progress: 3, failed: 1, completed: 1 });
  await redeliverEverything();
  // Everything is in exactly one bucket.
  const c = await counters();
  const buckets = Object.entries(c).filter(([k]) => /^status:/.test(k));
  expect(buckets.reduce((n, [, v]) => n + v, 0)).toBe(c.builds_total);
}, 60_000);

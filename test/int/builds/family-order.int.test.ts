/**
 * A fork parent is counted as fanned_out whatever order the stream delivers the two builds'
 * records in. The parent's build update (its report, whose live copy the aggregator writes) and
 * the child's `forked` history insert are in different partitions, so in AWS they may be on
 * different shards, processed in either order. Records are applied here by hand, each once, as
 * the aggregator Lambda would get them: the child's first, then the parent's, then what those
 * writes put on the stream.
 */

import { liveKey } from '../../../lib/builds/live.item';
import { Aggregator } from '../../../lib/dashboard/aggregator';
import { GetCommand } from '../../../lib/db/commands';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { streamRecords, summaryCounters } from '../../helpers/stream';

let stack: TestStack;
beforeAll(async () => {
  // No local consumer: this test is the only one applying the stream.
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const counters = () => summaryCounters(stack.tableName);

const pkOf = (r: { newImage?: Record<string, unknown>; oldImage?: Record<string, unknown> }) =>
  String(r.newImage?.pk ?? r.oldImage?.pk);

it('marks a fanned-out parent when the child’s records arrive before the parent’s report', async () => {
  const created = await stack.call('POST', '/builds', {
    id: 'ford-base',
    platform_id: 'aws',
    image_type_id: 'rhel9',
  });
  expect(created.status).toBe(201);
  for (const state_code of [10, 20, 30])
    expect(
      (await stack.call('POST', '/builds/ford-base/states', { state_code, status: 'completed' })).status,
    ).toBe(201);
  const fork = await stack.call('POST', '/builds/ford-base/fork', {
    at_state: 30,
    children: [{ id: 'ford-c1', platform_id: 'aws' }],
  });
  expect(fork.status).toBe(201);
  // Reports leave the live item to the stream: nothing has copied them yet.
  const live = await services().db.send(
    new GetCommand({ TableName: stack.tableName, Key: liveKey('ford-base') }),
  );
  expect(live.Item?.version).toBeLessThan(fork.body.parent_version);

  const records = await streamRecords(stack.tableName);
  const aggregator = new Aggregator(services().db, stack.tableName);
  const child = await aggregator.apply(records.filter((r) => pkOf(r) === 'BUILD#ford-c1'));
  expect(child.fanned_out).toBe(1);
  await aggregator.apply(records.filter((r) => pkOf(r) !== 'BUILD#ford-c1'));
  const seen = new Set(records.map((r) => r.sequence));
  for (let round = 0; round < 3; round++) {
    const fresh = (await streamRecords(stack.tableName)).filter((r) => !seen.has(r.sequence));
    for (const r of fresh) seen.add(r.sequence);
    await aggregator.apply(fresh);
  }
  const counts = await counters();
  expect(counts.builds_total).toBe(2);
  expect(counts['status:fanned_out']).toBe(1);
  expect(counts['status:in_progress']).toBe(1);

  // Every record once more, from a consumer of its own: nothing moves.
  const again = await new Aggregator(services().db, stack.tableName).apply(
    await streamRecords(stack.tableName),
  );
  expect(again.applied).toBe(0);
  expect(await counters()).toEqual(counts);
}, 60_000);

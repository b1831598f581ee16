/**
 * The dashboard's counters are applied exactly once per committed change, from DynamoDB Local's
 * real stream: the records are read back and fed to the Aggregator again and again (a redelivered
 * batch, a batch retried after part of it was applied, two consumers on one shard at once), and
 * the local consumer is restarted from an older checkpoint. The counters never move after the
 * first application, and equal what the builds are.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aggregator } from '../../../lib/dashboard/aggregator';
import { services } from '../../../lib/runtime';
import { startEventStream } from '../../../local/event-stream';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { streamRecords, summaryCounters } from '../../helpers/stream';

let stack: TestStack;
const dir = mkdtempSync(join(tmpdir(), 'bs-agg-'));
beforeAll(async () => {
  // No consumer of its own: this file drives the aggregator by hand.
  stack = await startTestStack();
});
afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

const actor = { id: 'key:agg', type: 'api_key' as const, name: 'agg', scopes: ['write' as const] };
const endpoint = () => process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT!;

/** The summary counters summed over shards, and the durations sample count. */
async function counters() {
  const sum = await summaryCounters(stack.tableName);
  const durations = (await services().dashboard.durations('azure')).items;
  return { ...sum, samples: durations.reduce((n, d) => n + d.samples, 0) };
}

const expected = {
  builds_total: 6,
  'status:pending': 1,
  'status:in_progress': 1,
  'status:failed': 1,
  'status:completed': 2,
  'status:cancelled': 1,
  'failed_attempts:10': 1,
  samples: 4,
};

it('counts each committed change once: replayed batches, partial retries, two consumers, a restart', async () => {
  const { builds } = services();
  const make = async (id: string) =>
    builds.create(
      { id, project_id: 'default', platform_id: 'azure', image_type_id: 'rhel9', metadata: {} },
      actor,
    );
  for (const id of ['agg-1', 'agg-2', 'agg-3', 'agg-4', 'agg-5', 'agg-6']) await make(id);
  for (const id of ['agg-1', 'agg-2']) {
    await builds.report(id, { state_code: 5, status: 'in_progress' }, actor);
    await builds.report(id, { state_code: 5, status: 'completed' }, actor);
    await builds.report(id, { state_code: 100, status: 'in_progress' }, actor);
    await builds.report(id, { state_code: 100, status: 'completed' }, actor);
  }
  await builds.report('agg-3', { state_code: 10, status: 'failed', error: 'x' }, actor);
  await builds.report('agg-4', { state_code: 10, status: 'in_progress' }, actor);
  await builds
    .report('agg-4', { state_code: 10, status: 'in_progress', worker_id: 'again' }, actor)
    .catch(() => null);
  await builds.cancel('agg-5', { reason: 'no' }, actor);
  // Heartbeats and lease calls write the live item too: they count nothing.
  const lease = await services().leases.acquire('agg-4', { worker_id: 'w', ttl_s: 60 });
  await services().leases.renew('agg-4', lease.lease_id, undefined);

  // Reports leave their live items to the aggregator, which writes them from the build items'
  // records; their own records come back through the stream and are counted on the next pass.
  const a = new Aggregator(services().db, stack.tableName);
  const first = await a.apply(await streamRecords(stack.tableName));
  expect(first.duplicates).toBe(0);
  const records = await streamRecords(stack.tableName);
  const second = await a.apply(records);
  expect(second.applied).toBeGreaterThan(0);
  expect(second.duplicates).toBe(first.applied);
  const applied = first.applied + second.applied;
  expect(await counters()).toMatchObject(expected);
  // Those copies are made once: passing over the same records writes no live item again.
  const liveWrites = async () =>
    (await streamRecords(stack.tableName)).filter((r) => r.newImage?.type === 'live').length;
  const copies = await liveWrites();

  // The same batch delivered again: everything is recognised, nothing moves.
  const again = await a.apply(records);
  expect([again.applied, again.duplicates]).toEqual([0, applied]);
  expect(await counters()).toMatchObject(expected);
  expect(await liveWrites()).toBe(copies);

  // A batch retried after its first half was applied (Lambda retries from the failed record, or the whole batch).
  const half = Math.floor(records.length / 2);
  expect((await a.apply(records.slice(0, half))).applied).toBe(0);
  expect((await a.apply(records.slice(half - 3))).applied).toBe(0);
  expect(await counters()).toMatchObject(expected);

  // Two consumers on one shard, at the same time, each with its own client.
  const b = new Aggregator(services().db, stack.tableName);
  const [x, y] = await Promise.all([a.apply(records), b.apply(records)]);
  expect(x.applied + y.applied).toBe(0);
  expect(await counters()).toMatchObject(expected);
});

it('restarts the local consumer from an older checkpoint (or none) without counting twice', async () => {
  const checkpointFile = join(dir, 'checkpoint.json');
  const consume = async () => {
    const consumer = await startEventStream({
      endpoint: endpoint(),
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
  };
  // Everything up to now was applied by the first test: a consumer reading it all applies nothing.
  expect((await consume()).applied).toBe(0);
  expect(await counters()).toMatchObject(expected);

  // A new change, consumed; then a restart from the checkpoint before it, and one from scratch.
  const before = readFileSync(checkpointFile, 'utf8');
  await services().builds.report('agg-6', { state_code: 5, status: 'in_progress' }, actor);
  const next = { ...expected, 'status:pending': 0, 'status:in_progress': 2 };
  expect((await consume()).applied).toBe(1);
  expect(await counters()).toMatchObject(next);
  writeFileSync(checkpointFile, before);
  const replayed = await consume();
  expect([replayed.applied, replayed.duplicates]).toEqual([0, 1]);
  rmSync(checkpointFile);
  expect((await consume()).applied).toBe(0);
  expect(await counters()).toMatchObject(next);
});

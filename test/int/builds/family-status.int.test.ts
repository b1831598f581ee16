/**
 * A fan-out family has an end (#24): the parent, whose own states stopped at the fork, takes its
 * status from its children. On the real engine and its stream: the list's status index, the
 * summary, the history and the events agree; the last two children finishing at once, with extra
 * aggregators reading the same records concurrently, complete the family exactly once.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aggregator } from '../../../lib/dashboard/aggregator';
import { EVENT_CONTRACTS } from '../../../lib/events/event.schema';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { streamRecords } from '../../helpers/stream';

const dir = mkdtempSync(join(tmpdir(), 'bs-family-'));
const logFile = join(dir, 'events.jsonl');
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { logFile, pollMs: 50 } });
});
afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The parent's change is written after its children's records are read: read the stream to the end twice. */
async function settled() {
  await stack.events!.drain();
  await stack.events!.drain();
}

type Logged = { 'detail-type': string; detail: Record<string, unknown> };
const logged = (): Logged[] =>
  readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const event = JSON.parse(l) as Logged;
      const contract = EVENT_CONTRACTS.find((c) => c.detailType === event['detail-type']);
      if (!contract) throw new Error(`an event of no published detail type: ${l}`);
      contract.detail.parse(event.detail);
      return event;
    });
const familyCompleted = (id: string) =>
  logged().filter((e) => e['detail-type'] === 'Build Family Completed' && e.detail.build_id === id);

const report = async (
  id: string,
  state_code: number,
  status: string,
  extra: Record<string, unknown> = {},
) => {
  const res = await stack.call('POST', `/builds/${id}/states`, { state_code, status, ...extra });
  expect(res.status).toBe(201);
  return res.body;
};

async function family(parent: string, children: string[]) {
  expect(
    (await stack.call('POST', '/builds', { id: parent, platform_id: 'aws', image_type_id: 'rhel9' })).status,
  ).toBe(201);
  for (const code of [10, 20]) await report(parent, code, 'completed');
  const fork = await stack.call('POST', `/builds/${parent}/fork`, {
    at_state: 20,
    children: children.map((id) => ({ id, platform_id: 'aws' })),
  });
  expect(fork.status).toBe(201);
  await settled();
}

const statusOf = async (id: string) => (await stack.call('GET', `/builds/${id}`)).body.status as string;
const listed = async (status: string) =>
  ((await stack.call('GET', `/builds?status=${status}&limit=100`)).body.items as { id: string }[]).map(
    (b) => b.id,
  );
const familyEntries = async (id: string) =>
  (
    (await stack.call('GET', `/builds/${id}/history?limit=100`)).body.items as {
      event: string;
      build_status: string;
    }[]
  ).filter((h) => h.event === 'family_status');

async function summaryAddsUp() {
  const summary = (await stack.call('GET', '/dashboard/summary')).body.builds;
  const sum = (by: Record<string, number>) => Object.values(by).reduce((a, b) => a + b, 0);
  expect(sum(summary.by_status)).toBe(summary.total);
  for (const p of Object.values(summary.by_platform) as {
    total: number;
    by_status: Record<string, number>;
  }[])
    expect(sum(p.by_status)).toBe(p.total);
  const status = (await stack.call('GET', '/status')).body.builds;
  expect(sum(status.by_status)).toBe(status.total);
  return summary;
}

it('a family whose children all complete ends: the parent reads completed everywhere, one event', async () => {
  await family('fs-base', ['fs-a', 'fs-b', 'fs-c']);
  expect(await statusOf('fs-base')).toBe('in_progress');
  expect(await listed('in_progress')).toContain('fs-base');
  const waiting = await summaryAddsUp();
  expect(waiting.fanned_out).toBe(1);
  expect(waiting.by_status.in_progress).toBe(4);

  for (const child of ['fs-a', 'fs-b']) await report(child, 100, 'completed');
  await settled();
  expect(await statusOf('fs-base')).toBe('in_progress');
  await report('fs-c', 100, 'completed');
  await settled();

  const parent = (await stack.call('GET', '/builds/fs-base')).body;
  expect(parent.status).toBe('completed');
  expect(parent.current_state).toBe(20);
  expect(await listed('completed')).toEqual(expect.arrayContaining(['fs-base', 'fs-a', 'fs-b', 'fs-c']));
  expect(await listed('in_progress')).not.toContain('fs-base');
  const done = await summaryAddsUp();
  expect(done.by_status.completed).toBe(4);
  expect(done.fanned_out).toBe(0);
  expect(await familyEntries('fs-base')).toEqual([
    expect.objectContaining({ event: 'family_status', build_status: 'completed' }),
  ]);
  const events = familyCompleted('fs-base');
  expect(events).toHaveLength(1);
  expect(events[0]!.detail.children).toEqual({ total: 3, by_status: { completed: 3 } });
  // A completed family is finished: the parent takes no more reports.
  const late = await stack.call('POST', '/builds/fs-base/states', { state_code: 30, status: 'in_progress' });
  expect(late.status).toBe(409);
});

it('the last two children completing at once complete the family exactly once, however many consumers settle it', async () => {
  await family('fc-base', ['fc-a', 'fc-b', 'fc-c']);
  await report('fc-a', 100, 'completed');
  await settled();
  // The last two at the same moment; then four more aggregators apply the whole stream at once,
  // concurrently with the stack's own consumer (redelivery and two consumers of one shard).
  await Promise.all([report('fc-b', 100, 'completed'), report('fc-c', 100, 'completed')]);
  const records = await streamRecords(stack.tableName);
  const results = await Promise.all(
    Array.from({ length: 4 }, () => new Aggregator(services().db, stack.tableName).apply(records)),
  );
  await settled();
  expect(await statusOf('fc-base')).toBe('completed');
  expect(await familyEntries('fc-base')).toHaveLength(1);
  expect(familyCompleted('fc-base')).toHaveLength(1);
  // Exactly one settle committed, whichever consumer it was.
  const extra = results.reduce((n, r) => n + r.families, 0);
  expect(extra).toBeLessThanOrEqual(1);
  await summaryAddsUp();
});

it('a blocked or failed child gives the documented parent status, and the family follows it back', async () => {
  await family('fb-base', ['fb-a', 'fb-b', 'fb-c']);
  await report('fb-a', 100, 'completed');
  await report('fb-b', 30, 'failed', { error: 'quota' });
  await settled();
  // fb-c still runs: the family is in progress.
  expect(await statusOf('fb-base')).toBe('in_progress');
  await report('fb-c', 100, 'completed');
  await settled();
  // Nothing runs; a child waits for its retry: failed.
  expect(await statusOf('fb-base')).toBe('failed');
  expect(await listed('failed')).toContain('fb-base');
  // It fails until it is blocked: blocked.
  for (let i = 0; i < 10 && (await statusOf('fb-b')) !== 'blocked'; i++)
    await report('fb-b', 30, 'failed', { error: 'quota' });
  await settled();
  expect(await statusOf('fb-b')).toBe('blocked');
  expect(await statusOf('fb-base')).toBe('blocked');
  expect(await listed('blocked')).toContain('fb-base');
  await summaryAddsUp();
  // Unblocked and retried: running again, then done.
  expect((await stack.call('POST', '/builds/fb-b/unblock', { reason: 'quota raised' })).status).toBe(200);
  await report('fb-b', 30, 'in_progress');
  await settled();
  expect(await statusOf('fb-base')).toBe('in_progress');
  await report('fb-b', 100, 'completed');
  await settled();
  expect(await statusOf('fb-base')).toBe('completed');
  expect((await familyEntries('fb-base')).map((h) => h.build_status)).toEqual([
    'failed',
    'blocked',
    // unblock leaves the child failed, waiting for its retry
    'failed',
    'in_progress',
    'completed',
  ]);
  expect(familyCompleted('fb-base')).toHaveLength(1);
  await summaryAddsUp();
});

it('a parent that reports after the fork is on its own', async () => {
  await family('fo-base', ['fo-a']);
  await report('fo-base', 30, 'completed');
  await report('fo-a', 100, 'completed');
  await settled();
  expect(await statusOf('fo-base')).toBe('in_progress');
  expect(await familyEntries('fo-base')).toEqual([]);
});

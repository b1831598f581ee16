/**
 * Events from the table stream (DynamoDB Local's real stream, read by the local publisher): one
 * Build State Changed per committed change and none for refused ones, stuck and retry-loop events,
 * the JSON-lines log, the feed the web dashboard reads, and a restart that neither loses nor repeats.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_CONTRACTS } from '../../../lib/events/event.schema';
import { detectStuck } from '../../../lib/events/stuck-detector';
import { services } from '../../../lib/runtime';
import { startEventStream } from '../../../local/event-stream';
import { startTestStack, type TestStack } from '../../helpers/stack';

const dir = mkdtempSync(join(tmpdir(), 'bs-events-'));
const logFile = join(dir, 'events.jsonl');
const checkpointFile = join(dir, 'events.checkpoint.json');
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { logFile, checkpointFile, pollMs: 50 } });
});
afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Logged = { source: string; 'detail-type': string; time: string; detail: Record<string, any> };
/** Every published event, each checked against its contract (lib/events/event.schema.ts) on the way. */
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

describe('events from the change stream', () => {
  it('publishes exactly one Build State Changed per committed change, none for refused requests', async () => {
    const id = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body.id;
    const calls: [number, unknown][] = [];
    const report = async (body: Record<string, unknown>) => {
      const r = await stack.call('POST', `/builds/${id}/states`, body);
      calls.push([r.status, body]);
      return r;
    };
    await report({ state_code: 5, status: 'in_progress', worker_id: 'packer-1' });
    await report({ state_code: 5, status: 'in_progress' }); // 409 already_in_progress
    await report({ state_code: 5, status: 'completed' });
    await report({ state_code: 3, status: 'in_progress' }); // 409 state_regression
    await report({ state_code: 10, status: 'bogus' }); // 400
    await report({ state_code: 10, status: 'failed', error: 'disk full' });
    // Twenty racing reports of one new state: exactly one commits.
    await Promise.all(Array.from({ length: 20 }, () => report({ state_code: 15, status: 'in_progress' })));
    await stack.call('POST', `/builds/${id}/cancel`, { reason: 'done testing' });
    await stack.events!.drain();

    const history = (await stack.call('GET', `/builds/${id}/history`)).body.items as { seq: number }[];
    const changes = logged().filter(
      (e) => e['detail-type'] === 'Build State Changed' && e.detail.build_id === id,
    );
    expect(changes.map((e) => e.detail.version)).toEqual(history.map((h) => h.seq));
    expect(new Set(changes.map((e) => e.detail.dedup_key)).size).toBe(history.length);
    // Committed: the create, each 201 report (4 of the 26 sent) and the cancel.
    expect(calls.filter(([s]) => s === 201)).toHaveLength(4);
    expect(history).toHaveLength(1 + 4 + 1);
    expect(changes[1]!).toMatchObject({
      source: 'buildstate',
      detail: {
        build_id: id,
        project_id: 'default',
        platform_id: 'aws',
        image_type_id: 'rhel9',
        change: 'state_reported',
        from: { state: 0, state_status: null, build_status: 'pending' },
        to: { state: 5, state_status: 'in_progress', build_status: 'in_progress' },
        attempt: 1,
        worker_id: 'packer-1',
        version: 2,
        dedup_key: `${id}:2`,
      },
    });
    expect(changes.at(-1)!.detail).toMatchObject({
      change: 'build_cancelled',
      to: { build_status: 'cancelled' },
    });

    // The web dashboard's feed has them too (local gateway only, with a read key).
    const feed = await stack.call('GET', '/local/events?after=0');
    expect(feed.status).toBe(200);
    expect(
      feed.body.items.filter((e: { detail: { build_id: string } }) => e.detail.build_id === id),
    ).toHaveLength(history.length);
    expect((await fetch(`${stack.url}/local/events`)).status).toBe(401);
  });

  it('publishes a Build Retry Loop when a state keeps failing with the same error', async () => {
    const id = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body.id;
    for (const error of ['ldap timeout', 'ldap timeout']) {
      await stack.call('POST', `/builds/${id}/states`, { state_code: 50, status: 'in_progress' });
      await stack.call('POST', `/builds/${id}/states`, { state_code: 50, status: 'failed', error });
    }
    await stack.events!.drain();
    const loops = logged().filter((e) => e['detail-type'] === 'Build Retry Loop' && e.detail.build_id === id);
    expect(loops).toHaveLength(1);
    expect(loops[0]!.detail).toMatchObject({
      state_code: 50,
      attempt: 2,
      consecutive_failures: 2,
      error: 'ldap timeout',
    });
  });

  it('publishes Build State Stuck from the outbox, once per attempt and kind', async () => {
    const id = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body.id;
    await stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'in_progress' });
    // The detector reads the active index, whose entry for a report comes from the stream.
    await stack.events!.drain();
    const { dashboard, outbox } = services();
    const later = () => new Date(Date.now() + 3600_000);
    // The detector's clock is an hour ahead: the attempt has been silent for an hour.
    const detect = () =>
      detectStuck(Object.assign(Object.create(dashboard), { clock: later }), outbox, later);
    const first = await detect();
    expect(first.events_recorded).toBeGreaterThanOrEqual(1);
    expect((await detect()).events_recorded).toBe(0);
    await stack.events!.drain();
    const stuck = logged().filter(
      (e) => e['detail-type'] === 'Build State Stuck' && e.detail.build_id === id,
    );
    expect(stuck.map((e) => e.detail.kind)).toEqual(['silent']);
    expect(stuck[0]!.detail).toMatchObject({
      state_code: 5,
      attempt: 1,
      dedup_key: `${id}:stuck:silent:5:1`,
    });
  });

  it('decodes any metadata: empty maps under names that look like type keys do not stop the reader', async () => {
    const metadata = { AMI: {}, M: {}, L: { S: {} }, NULL: [{}, { BOOL: {} }] };
    const odd = (
      await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9', metadata })
    ).body.id;
    await stack.call('POST', `/builds/${odd}/states`, { state_code: 5, status: 'in_progress', metadata });
    const next = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body
      .id;
    await stack.events!.drain();
    const keys = logged()
      .filter((e) => e.detail.build_id === odd || e.detail.build_id === next)
      .map((e) => e.detail.dedup_key);
    expect(keys).toEqual([`${odd}:1`, `${odd}:2`, `${next}:1`]);
  });

  it('resumes after a restart from its checkpoint: nothing lost, nothing repeated', async () => {
    await stack.events!.drain();
    const before = logged().length;
    await stack.events!.stop();
    const id = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body.id;
    await stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'in_progress' });
    const restarted = await startEventStream({
      endpoint: process.env.BUILDSTATE_DYNAMODB_ENDPOINT!,
      tableName: stack.tableName,
      region: 'us-east-1',
      logFile,
      checkpointFile,
      retryLoopAfter: 2,
      pollMs: 50,
    });
    try {
      await restarted.drain();
      const after = logged();
      expect(after.slice(before).map((e) => e.detail.dedup_key)).toEqual([`${id}:1`, `${id}:2`]);
      expect(new Set(after.map((e) => e.detail.dedup_key)).size).toBe(after.length);
    } finally {
      await restarted.stop();
    }
  });
});

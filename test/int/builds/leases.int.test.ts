/**
 * Leases and heartbeats on the real engine: takeover after expiry with the old holder fenced out,
 * racing acquisitions, reports checked against the lease inside their transaction. Expiry uses a
 * fake clock shared by the lease and build services (the conditions compare against it).
 */

import { buildKey } from '../../../lib/builds/build.keys';
import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import { defaultCatalog } from '../../../lib/catalog/state-catalog';
import { UpdateCommand } from '../../../lib/db/commands';
import type { Transaction } from '../../../lib/db/transaction';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { LeaseRepository } from '../../../lib/leases/lease.repository';
import { LeaseService } from '../../../lib/leases/lease.service';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  // With the stream consumer: a report's live item (its last_report_*) is written from the stream.
  stack = await startTestStack({ events: { pollMs: 50 } });
});
afterAll(() => stack.stop());

const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };
const input = { project_id: 'default', platform_id: 'aws', image_type_id: 'rhel9', metadata: {} };

/** Build and lease services over the test table, reading one movable clock. */
function world(start = Date.parse('2026-03-01T10:00:00Z')) {
  let now = start;
  const clock = () => new Date(now);
  const { db } = services();
  const repo = new BuildRepository(db, stack.tableName);
  const builds = new BuildService({
    builds: repo,
    idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
    catalogs: { forProject: async () => defaultCatalog },
    defaultMaxAttempts: 3,
    clock,
  });
  const leases = new LeaseService({
    leases: new LeaseRepository(db, stack.tableName),
    getBuild: (id) => repo.get(id),
    clock,
  });
  return { builds, leases, advance: (seconds: number) => (now += seconds * 1000) };
}

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

describe('leases (service, fake clock)', () => {
  it('lets another worker take over after expiry and fences the old holder out', async () => {
    const w = world();
    await w.builds.create({ ...input, id: 'lease-takeover' }, actor);
    const a = await w.leases.acquire('lease-takeover', { worker_id: 'worker-a', ttl_s: 60 });
    expect(a.fence).toBe(1);
    await w.builds.report('lease-takeover', { state_code: 5, status: 'in_progress' }, actor, {
      leaseId: a.lease_id,
    });

    // While A's lease is live: B cannot take it, and reports without the lease are refused.
    w.advance(30);
    expect(await code(w.leases.acquire('lease-takeover', { worker_id: 'worker-b', ttl_s: 60 }))).toBe(
      'lease_held',
    );
    expect(await code(w.builds.report('lease-takeover', { state_code: 5, status: 'completed' }, actor))).toBe(
      'lease_held',
    );

    // A goes silent; 61 s after its last renewal the lease has expired and B takes over.
    w.advance(31);
    const b = await w.leases.acquire('lease-takeover', { worker_id: 'worker-b', ttl_s: 60 });
    expect(b.fence).toBe(2);
    expect(b.lease_id).not.toBe(a.lease_id);

    // A wakes up: its report, renewal and release are all refused; nothing it sent was recorded.
    expect(
      await code(
        w.builds.report('lease-takeover', { state_code: 5, status: 'completed' }, actor, {
          leaseId: a.lease_id,
        }),
      ),
    ).toBe('lease_lost');
    expect(await code(w.leases.renew('lease-takeover', a.lease_id, undefined))).toBe('lease_lost');
    expect(await code(w.leases.release('lease-takeover', a.lease_id))).toBe('lease_lost');
    const afterA = (await w.builds.get('lease-takeover')).body as { version: number; state_status: string };
    expect(afterA).toMatchObject({ version: 2, state_status: 'in_progress' });

    // B's reports go through.
    await w.builds.report('lease-takeover', { state_code: 5, status: 'completed' }, actor, {
      leaseId: b.lease_id,
    });
    const renewed = await w.leases.renew('lease-takeover', b.lease_id, undefined);
    expect(Date.parse(renewed.expires_at) - Date.parse(renewed.server_time)).toBe(60_000);
    await w.leases.release('lease-takeover', b.lease_id);
    // Released twice is fine; afterwards reports need no lease, and the next lease gets fence 3.
    await w.leases.release('lease-takeover', b.lease_id);
    await w.builds.report('lease-takeover', { state_code: 10, status: 'in_progress' }, actor);
    expect((await w.leases.acquire('lease-takeover', { worker_id: 'worker-c', ttl_s: 60 })).fence).toBe(3);
  });

  it('keeps a renewed lease alive past its first expiry', async () => {
    const w = world();
    await w.builds.create({ ...input, id: 'lease-renew' }, actor);
    const a = await w.leases.acquire('lease-renew', { worker_id: 'a', ttl_s: 30 });
    for (let i = 0; i < 4; i++) {
      w.advance(20);
      await w.leases.renew('lease-renew', a.lease_id, undefined);
    }
    expect(await code(w.leases.acquire('lease-renew', { worker_id: 'b', ttl_s: 30 }))).toBe('lease_held');
    w.advance(31);
    expect(await code(w.leases.acquire('lease-renew', { worker_id: 'b', ttl_s: 30 }))).toBe('ok');
  });

  it('lets the same worker take its own lease again after a restart (new fence)', async () => {
    const w = world();
    await w.builds.create({ ...input, id: 'lease-restart' }, actor);
    const first = await w.leases.acquire('lease-restart', { worker_id: 'host-1', ttl_s: 600 });
    const second = await w.leases.acquire('lease-restart', { worker_id: 'host-1', ttl_s: 600 });
    expect(second.fence).toBe(first.fence + 1);
    expect(
      await code(
        w.builds.report('lease-restart', { state_code: 5, status: 'in_progress' }, actor, {
          leaseId: first.lease_id,
        }),
      ),
    ).toBe('lease_lost');
  });

  it('refuses leases and heartbeats on finished or unknown builds', async () => {
    const w = world();
    await w.builds.create({ ...input, id: 'lease-cancelled' }, actor);
    await w.builds.cancel('lease-cancelled', { reason: 'test' }, actor);
    expect(await code(w.leases.acquire('lease-cancelled', { worker_id: 'a', ttl_s: 60 }))).toBe(
      'build_cancelled',
    );
    expect(await code(w.leases.acquire('nope', { worker_id: 'a', ttl_s: 60 }))).toBe('not_found');
    expect(await code(w.leases.heartbeat('nope', { worker_id: 'a' }))).toBe('not_found');
  });
});

/** A repository that records the part names of every transaction it commits. */
class RecordingRepository extends BuildRepository {
  readonly sent: string[][] = [];
  override commit(tx: Transaction) {
    this.sent.push(tx.names());
    return super.commit(tx);
  }
}

describe("a report's lease, checked against the build item", () => {
  function recorded(start = Date.parse('2026-04-01T10:00:00Z')) {
    let now = start;
    const clock = () => new Date(now);
    const { db } = services();
    const repo = new RecordingRepository(db, stack.tableName);
    const service = () =>
      new BuildService({
        builds: repo,
        idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
        catalogs: { forProject: async () => defaultCatalog },
        defaultMaxAttempts: 3,
        clock,
      });
    const builds = service();
    // Lease calls in the same runtime as `builds` (as in the states function) update its cache;
    // `foreignLeases` are another runtime's.
    const leaseService = (local: boolean) =>
      new LeaseService({
        leases: new LeaseRepository(db, stack.tableName),
        getBuild: (id) => repo.get(id),
        ...(local
          ? { leaseChanged: (id: string, leaseId: string | null) => builds.noteLease(id, leaseId) }
          : {}),
        clock,
      });
    const leases = leaseService(true);
    const foreignLeases = leaseService(false);
    /** The part names of the transactions `run` committed or tried. */
    const parts = async (run: () => Promise<unknown>) => {
      const before = repo.sent.length;
      const outcome = await code(run());
      return { outcome, parts: repo.sent.slice(before) };
    };
    return {
      builds,
      other: service(),
      fresh: service,
      leases,
      foreignLeases,
      parts,
      advance: (s: number) => (now += s * 1000),
    };
  }
  const report = (state_code: number, status: 'in_progress' | 'completed') => ({ state_code, status });

  it('writes only the build and its history without a lease and under the current one', async () => {
    const w = recorded();
    await w.builds.create({ ...input, id: 'lease-two' }, actor);
    expect(await w.parts(() => w.builds.report('lease-two', report(5, 'in_progress'), actor))).toEqual({
      outcome: 'ok',
      parts: [['build', 'history']],
    });
    const lease = await w.leases.acquire('lease-two', { worker_id: 'w-1', ttl_s: 60 });
    const leased = { leaseId: lease.lease_id };
    expect(
      await w.parts(() => w.builds.report('lease-two', report(5, 'completed'), actor, leased)),
    ).toMatchObject({ outcome: 'ok', parts: [['build', 'history']] });
    // The renewals a worker sends meanwhile touch only the live item: still two items.
    await w.leases.renew('lease-two', lease.lease_id, undefined);
    expect(
      await w.parts(() => w.builds.report('lease-two', report(10, 'in_progress'), actor, leased)),
    ).toMatchObject({ outcome: 'ok', parts: [['build', 'history']] });
  });

  it('checks the live item when the build item cannot decide, and refuses what the lease refuses', async () => {
    const w = recorded();
    await w.builds.create({ ...input, id: 'lease-three' }, actor);
    const a = await w.leases.acquire('lease-three', { worker_id: 'w-a', ttl_s: 60 });
    // Someone else's live lease: a report without it is refused by the live item's check.
    expect(await w.parts(() => w.builds.report('lease-three', report(5, 'in_progress'), actor))).toEqual({
      outcome: 'lease_held',
      parts: [['build', 'history', 'live']],
    });
    // Expired, not released: a report without a lease goes through (checked on the live item).
    w.advance(61);
    expect(await w.parts(() => w.builds.report('lease-three', report(5, 'in_progress'), actor))).toEqual({
      outcome: 'ok',
      parts: [['build', 'history', 'live']],
    });
    // Released: the old id is refused, and a report without a lease needs two items again.
    const b = await w.leases.acquire('lease-three', { worker_id: 'w-b', ttl_s: 60 });
    await w.leases.release('lease-three', b.lease_id);
    expect(
      await w.parts(() =>
        w.builds.report('lease-three', report(5, 'completed'), actor, { leaseId: b.lease_id }),
      ),
    ).toEqual({ outcome: 'lease_lost', parts: [['build', 'history', 'live']] });
    expect(await w.parts(() => w.builds.report('lease-three', report(5, 'completed'), actor))).toEqual({
      outcome: 'ok',
      parts: [['build', 'history']],
    });
    expect(a.lease_id).not.toBe(b.lease_id);
  });

  it('never trusts a cached build over a lease taken since', async () => {
    const w = recorded();
    await w.builds.create({ ...input, id: 'lease-cached' }, actor);
    await w.builds.report('lease-cached', report(5, 'in_progress'), actor);
    // Taken behind this runtime's back: its cached build still says no lease.
    await w.foreignLeases.acquire('lease-cached', { worker_id: 'w-a', ttl_s: 60 });
    const refused = await w.parts(() => w.builds.report('lease-cached', report(5, 'completed'), actor));
    expect(refused).toEqual({
      outcome: 'lease_held',
      parts: [
        ['build', 'history'],
        ['build', 'history', 'live'],
      ],
    });
    expect(((await w.other.get('lease-cached')).body as { version: number }).version).toBe(2);
  });

  it('checks builds made before the build item held lease_id on their live item', async () => {
    const w = recorded();
    await w.builds.create({ ...input, id: 'lease-legacy' }, actor);
    const a = await w.leases.acquire('lease-legacy', { worker_id: 'w-a', ttl_s: 60 });
    // As a build of an older version looks: no lease_id attribute at all.
    await services().db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: buildKey('lease-legacy'),
        UpdateExpression: 'REMOVE lease_id',
      }),
    );
    expect(await w.parts(() => w.other.report('lease-legacy', report(5, 'in_progress'), actor))).toEqual({
      outcome: 'lease_held',
      parts: [['build', 'history', 'live']],
    });
    expect(
      await w.parts(() =>
        w.other.report('lease-legacy', report(5, 'in_progress'), actor, { leaseId: a.lease_id }),
      ),
    ).toEqual({ outcome: 'ok', parts: [['build', 'history', 'live']] });
    // Its next lease call writes lease_id: from then on two items.
    await w.leases.release('lease-legacy', a.lease_id);
    const runtime = w.fresh();
    expect(await w.parts(() => runtime.report('lease-legacy', report(5, 'completed'), actor))).toMatchObject({
      outcome: 'ok',
      parts: [['build', 'history']],
    });
  });
});

describe('leases over HTTP', () => {
  const create = async () =>
    (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body.id as string;

  it('gives exactly one of 20 racing workers the lease', async () => {
    const id = await create();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stack.call('POST', `/builds/${id}/lease`, { worker_id: `w${i}`, ttl_s: 60 }),
      ),
    );
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('lease_held');
      expect(r.body.error.details.holder).toMatchObject({ worker_id: won[0]!.body.worker_id, fence: 1 });
    }
    const lease = (await stack.call('GET', `/builds/${id}/lease`)).body;
    expect(lease.lease).toMatchObject({ worker_id: won[0]!.body.worker_id, fence: 1 });
  });

  it('gives 20 concurrent re-takes by one worker 20 distinct leases and fences; only the last one works', async () => {
    const id = await create();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        stack.call('POST', `/builds/${id}/lease`, { worker_id: 'vm-1', ttl_s: 60 }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    const leases = results.map((r) => r.body as { lease_id: string; fence: number });
    expect(new Set(leases.map((l) => l.lease_id)).size).toBe(20);
    expect(leases.map((l) => l.fence).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const last = leases.find((l) => l.fence === 20)!;
    expect((await stack.call('GET', `/builds/${id}/lease`)).body.lease).toMatchObject({
      worker_id: 'vm-1',
      fence: 20,
    });
    // Every lease but the last was re-taken: renewing it, or reporting under it, is refused.
    for (const old of leases.filter((l) => l !== last)) {
      const renew = await stack.call('PUT', `/builds/${id}/lease`, {}, { 'x-lease-id': old.lease_id });
      expect([renew.status, renew.body.error?.code]).toEqual([409, 'lease_lost']);
    }
    const stale = leases.find((l) => l.fence === 19)!;
    const refused = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 5, status: 'in_progress' },
      {
        'x-lease-id': stale.lease_id,
      },
    );
    expect([refused.status, refused.body.error.code]).toEqual([409, 'lease_lost']);
    const ok = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 5, status: 'in_progress' },
      {
        'x-lease-id': last.lease_id,
      },
    );
    expect(ok.status).toBe(201);
  });

  it('takes X-Lease-Id on reports, renewals and releases', async () => {
    const id = await create();
    const lease = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'packer-1' })).body;
    expect(lease).toMatchObject({ worker_id: 'packer-1', fence: 1, ttl_s: 120 });
    const header = { 'x-lease-id': lease.lease_id };

    const refused = await stack.call('POST', `/builds/${id}/states`, {
      state_code: 5,
      status: 'in_progress',
    });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'lease_held']);
    const ok = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 5, status: 'in_progress' },
      header,
    );
    expect(ok.status).toBe(201);

    const renewed = await stack.call('PUT', `/builds/${id}/lease`, { ttl_s: 300 }, header);
    expect(renewed.status).toBe(200);
    expect(renewed.body.ttl_s).toBe(300);
    const info = (await stack.call('GET', `/builds/${id}/lease`)).body;
    expect(info.last_heartbeat_at).toBe(renewed.body.server_time);

    const bad = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 5, status: 'completed' },
      {
        'x-lease-id': 'not-a-lease',
      },
    );
    expect([bad.status, bad.body.error.details]).toEqual([400, { header: 'X-Lease-Id' }]);
    const mismatch = await stack.call(
      'DELETE',
      `/builds/${id}/lease`,
      { lease_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
      header,
    );
    expect(mismatch.status).toBe(400);

    expect((await stack.call('DELETE', `/builds/${id}/lease`, undefined, header)).status).toBe(200);
    expect(
      (await stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'completed' })).status,
    ).toBe(201);
  });

  it('records heartbeats without a lease and refuses them while another worker holds one', async () => {
    const id = await create();
    const hb = await stack.call('POST', `/builds/${id}/heartbeat`, { worker_id: 'ansible-1' });
    expect(hb.status).toBe(200);
    expect(hb.body).toMatchObject({ build_id: id, worker_id: 'ansible-1' });
    const history = (await stack.call('GET', `/builds/${id}/history`)).body.items;
    expect(history).toHaveLength(1); // no history item per heartbeat

    await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'packer-2' });
    const refused = await stack.call('POST', `/builds/${id}/heartbeat`, { worker_id: 'ansible-1' });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'lease_held']);
    expect((await stack.call('POST', `/builds/${id}/heartbeat`, { worker_id: 'packer-2' })).status).toBe(200);

    for (const [body, field] of [
      [{}, 'worker_id'],
      [{ worker_id: 'x', ttl_s: 1 }, 'ttl_s'],
    ] as const) {
      const r = await stack.call('POST', `/builds/${id}/lease`, body);
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.error.details)).toContain(field);
    }
  });
});

describe('reports, renewals and heartbeats racing', () => {
  /** Two runtimes whose requests were computed at different times and land in another order. */
  function twoClocks() {
    let a = Date.parse('2026-03-02T10:00:00Z');
    let b = a;
    const { db } = services();
    const repo = new BuildRepository(db, stack.tableName);
    const make = (clock: () => Date) => ({
      builds: new BuildService({
        builds: repo,
        idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
        catalogs: { forProject: async () => defaultCatalog },
        defaultMaxAttempts: 3,
        clock,
      }),
      leases: new LeaseService({
        leases: new LeaseRepository(db, stack.tableName),
        getBuild: (id) => repo.get(id),
        clock,
      }),
    });
    return {
      a: make(() => new Date(a)),
      b: make(() => new Date(b)),
      set: (sa: number, sb: number) => {
        a = Date.parse('2026-03-02T10:00:00Z') + sa * 1000;
        b = Date.parse('2026-03-02T10:00:00Z') + sb * 1000;
      },
      live: (id: string) => new LeaseRepository(db, stack.tableName).get(id),
    };
  }

  it('never writes an expiry or heartbeat back to an older value, in whatever order they land', async () => {
    const w = twoClocks();
    await w.a.builds.create({ ...input, id: 'race-renew' }, actor);
    const lease = await w.a.leases.acquire('race-renew', { worker_id: 'w-1', ttl_s: 60 });
    // Runtime B renews at t=50 s; runtime A's report (computed at t=30 s) commits after it.
    w.set(30, 50);
    await w.b.leases.renew('race-renew', lease.lease_id, undefined);
    await w.a.builds.report('race-renew', { state_code: 5, status: 'in_progress' }, actor, {
      leaseId: lease.lease_id,
    });
    await stack.events!.drain();
    let live = (await w.live('race-renew'))!;
    const t = (s: number) => Date.parse('2026-03-02T10:00:00Z') + s * 1000;
    expect([live.lease_expires_ms, live.last_heartbeat_ms, live.last_report_ms]).toEqual([
      t(110),
      t(50),
      t(30),
    ]);

    // A renewal computed at t=40 s lands after the one of t=50 s: it succeeds and changes nothing.
    w.set(40, 50);
    const late = await w.a.leases.renew('race-renew', lease.lease_id, undefined);
    expect(late.expires_at).toBe(new Date(t(110)).toISOString());
    live = (await w.live('race-renew'))!;
    expect([live.lease_expires_ms, live.last_heartbeat_ms]).toEqual([t(110), t(50)]);

    // The same for heartbeats without a lease, after the lease is released.
    await w.b.leases.release('race-renew', lease.lease_id);
    w.set(70, 90);
    await w.b.leases.heartbeat('race-renew', { worker_id: 'w-2' });
    await w.a.leases.heartbeat('race-renew', { worker_id: 'w-2' });
    expect((await w.live('race-renew'))!.last_heartbeat_ms).toBe(t(90));
    // And a report keeps its own sign of life apart: the stuck detector takes the later of the two.
    w.set(95, 95);
    await w.a.builds.report('race-renew', { state_code: 5, status: 'completed' }, actor);
    await stack.events!.drain();
    live = (await w.live('race-renew'))!;
    expect([live.last_heartbeat_ms, live.last_report_ms]).toEqual([t(90), t(95)]);
  });
});

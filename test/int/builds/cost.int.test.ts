/**
 * Cost per phase (#29), on DynamoDB Local and the real stream: platform and worker rates, the
 * costs of completed, failed, interrupted and lost attempts, what resuming and forking avoided,
 * /dashboard/costs by every group with currencies kept apart, and exactly-once sums under a
 * replayed stream batch. The build service runs on a fake clock (measured seconds are exact);
 * the platforms it prices from are written and read through the real reference API and service.
 */
import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import { type Milestone, StateCatalog } from '../../../lib/catalog/state-catalog';
import { Aggregator } from '../../../lib/dashboard/aggregator';
import { DashboardRepository } from '../../../lib/dashboard/dashboard.repository';
import { DashboardService } from '../../../lib/dashboard/dashboard.service';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { ReferenceRepository } from '../../../lib/reference/reference.repository';
import { ReferenceService } from '../../../lib/reference/reference.service';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { streamRecords } from '../../helpers/stream';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
});
afterAll(() => stack.stop());

const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };
const catalog = new StateCatalog(
  [0, 10, 20, 30, 100].map((code): Milestone => ({ code, name: `s${code}`, description: '', category: 'x' })),
);

let now = Date.parse('2026-05-04T08:00:00Z');
const clock = () => new Date(now);
const advance = (s: number) => (now += s * 1000);
/** The live item's last lease-less heartbeat, as the takeover reads it (set by the lost-attempt test). */
let heartbeatMs: number | undefined;

function servicesOnClock() {
  const { db } = services();
  const catalogs = { forProject: async () => catalog };
  // Cache 0: a re-priced platform prices the very next attempt that closes.
  const references = new ReferenceService({
    repo: new ReferenceRepository(db, stack.tableName),
    idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
    catalogCacheTtlSeconds: 0,
    clock,
  });
  const builds = new BuildService({
    builds: new BuildRepository(db, stack.tableName),
    idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
    catalogs,
    defaultMaxAttempts: 5,
    heartbeatTimeoutSeconds: 300,
    liveSigns: async () => (heartbeatMs ? { unleased_heartbeat_ms: heartbeatMs } : undefined),
    rates: (p) => references.rateOf(p),
    clock,
  });
  const dashboard = new DashboardService({
    repo: new DashboardRepository(db, stack.tableName),
    catalogs,
    policy: { heartbeatTimeoutSeconds: 300, overdueFactor: 2, overdueMinSamples: 5 },
    clock,
  });
  return { builds, dashboard };
}

type Json = Record<string, any>;

it('refuses a negative hourly_cost, an unknown currency and a bad group_by, and changes nothing', async () => {
  const bad = [
    { id: 'p-neg', name: 'neg', cloud_provider: 'aws', hourly_cost: -0.1 },
    { id: 'p-many', name: 'many', cloud_provider: 'aws', hourly_cost: '0.1234567' },
    { id: 'p-cur', name: 'cur', cloud_provider: 'aws', hourly_cost: 1, currency: 'usd' },
    { id: 'p-xyz', name: 'xyz', cloud_provider: 'aws', hourly_cost: 1, currency: 'XYZ' },
  ];
  for (const body of bad) {
    const res = await stack.call('POST', '/platforms', body);
    expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
    expect((await stack.call('GET', `/platforms/${body.id}`)).status).toBe(404);
  }
  const made = await stack.call('POST', '/platforms', { id: 'p-ok', name: 'ok', cloud_provider: 'aws' });
  expect(made.body).toMatchObject({ hourly_cost: null, currency: 'USD' });
  const refused = await stack.call('PUT', '/platforms/p-ok', { hourly_cost: '-1' });
  expect(refused.status).toBe(400);
  expect((await stack.call('GET', '/platforms/p-ok')).body).toMatchObject({ hourly_cost: null, version: 1 });

  const build = await stack.call('POST', '/builds', {
    project_id: 'default',
    platform_id: 'p-ok',
    image_type_id: 'rhel9',
  });
  const report = await stack.call('POST', `/builds/${build.body.id}/states`, {
    state_code: 10,
    status: 'in_progress',
    hourly_cost: -2,
  });
  expect([report.status, report.body.error.code]).toEqual([400, 'validation_error']);
  expect((await stack.call('GET', `/builds/${build.body.id}`)).body).toMatchObject({ version: 1 });

  for (const query of ['group_by=owner', 'since=yesterday', 'since=1999-01-01', 'color=red']) {
    const res = await stack.call('GET', `/dashboard/costs?${query}`);
    expect([query, res.status, res.body.error.code]).toEqual([query, 400, 'validation_error']);
  }
});

it('prices each attempt at the worker or platform rate: completed, failed, interrupted, lost; resumes and forks avoided', async () => {
  const { builds, dashboard } = servicesOnClock();
  for (const body of [
    { id: 'c-aws', name: 'aws', cloud_provider: 'aws', hourly_cost: 0.36 },
    { id: 'c-eu', name: 'eu', cloud_provider: 'azure', hourly_cost: '1.2', currency: 'EUR' },
  ])
    expect((await stack.call('POST', '/platforms', body)).status).toBe(201);
  expect((await stack.call('GET', '/platforms/c-aws')).body).toMatchObject({
    hourly_cost: '0.360000',
    currency: 'USD',
  });

  const create = (id: string, platform_id: string) =>
    builds.create({ id, project_id: 'default', platform_id, image_type_id: 'rhel9', metadata: {} }, actor);
  const report = (id: string, body: Json) => builds.report(id, body as never, actor);
  await create('c-1', 'c-aws');
  // 10: 600 s at the platform's 0.36/h = 0.06.
  await report('c-1', { state_code: 10, status: 'in_progress' });
  advance(600);
  await report('c-1', { state_code: 10, status: 'completed' });
  // 20, attempt 1: the worker's own 0.72/h, given when it started; 300 s, failed = 0.06.
  await report('c-1', { state_code: 20, status: 'in_progress', hourly_cost: '0.72', worker_id: 'spot-1' });
  advance(300);
  await report('c-1', { state_code: 20, status: 'failed', error: 'boom' });
  // Attempt 2 resumes (600 s of 10 avoided = 0.06) and is interrupted after 100 s = 0.01.
  await report('c-1', { state_code: 20, status: 'in_progress' });
  advance(100);
  await report('c-1', { state_code: 20, status: 'failed', error_code: 'interrupted', error: 'SIGINT' });
  // Attempt 3 resumes (0.06 avoided); its worker heartbeats at +200 s and dies: lost, 200 s = 0.02.
  await report('c-1', { state_code: 20, status: 'in_progress', worker_id: 'vm-dead' });
  heartbeatMs = now + 200_000;
  advance(900);
  // Attempt 4 takes over (0.06 avoided again), and its closing report gives its own 1.8/h: 50 s = 0.025.
  const taken = await report('c-1', { state_code: 20, status: 'in_progress', worker_id: 'vm-2' });
  expect(taken.body).toMatchObject({ attempt: 4, took_over: { worker_id: 'vm-dead' } });
  heartbeatMs = undefined;
  advance(50);
  await report('c-1', { state_code: 20, status: 'completed', hourly_cost: 1.8 });
  // Re-pricing the platform changes what closes next, not what was recorded.
  expect((await stack.call('PUT', '/platforms/c-aws', { hourly_cost: '3.6' })).status).toBe(200);
  await report('c-1', { state_code: 30, status: 'in_progress' });
  advance(10);
  await report('c-1', { state_code: 30, status: 'completed' });

  const got = (await builds.get('c-1')).body as Json;
  expect(got.work_avoided_s).toBe(1800);
  expect(got.cost).toEqual({
    currency: 'USD',
    total: '0.185000',
    by_state: { '10': '0.060000', '20': '0.115000', '30': '0.010000' },
    failed: '0.090000',
    avoided: '0.180000',
  });
  const history = (await builds.history('c-1', { limit: 100 })).body as { items: Json[] };
  const priced = history.items.filter((h) => h.cost && h.cost.amount !== '0.000000');
  expect(
    priced.map((h) => [
      h.state_code,
      h.status,
      h.error_code ?? null,
      h.cost.rate_source,
      h.cost.hourly_cost,
      h.cost.attempt_s,
      h.cost.amount,
    ]),
  ).toEqual([
    [10, 'completed', null, 'platform', '0.360000', 600, '0.060000'],
    [20, 'failed', null, 'worker', '0.720000', 300, '0.060000'],
    [20, 'failed', 'interrupted', 'platform', '0.360000', 100, '0.010000'],
    [20, 'failed', 'worker_lost', 'platform', '0.360000', 200, '0.020000'],
    [20, 'completed', null, 'worker', '1.800000', 50, '0.025000'],
    [30, 'completed', null, 'platform', '3.600000', 10, '0.010000'],
  ]);

  // A build in EUR, and a fork of c-1 at 10 onto the EUR platform: the child's avoided 600 s at 1.2/h.
  await create('c-eu-1', 'c-eu');
  await report('c-eu-1', { state_code: 10, status: 'in_progress' });
  advance(3600);
  await report('c-eu-1', { state_code: 10, status: 'completed' });
  const fork = await builds.fork(
    'c-1',
    { at_state: 10, children: [{ id: 'c-child', platform_id: 'c-eu', metadata: {} }] },
    actor,
  );
  expect((fork.body as Json).children[0].cost).toEqual({
    currency: 'EUR',
    total: '0.000000',
    by_state: {},
    failed: '0.000000',
    avoided: '0.200000',
  });
  // Nothing priced, no cost: a build on a platform without hourly_cost.
  await create('c-free', 'p-ok');
  await report('c-free', { state_code: 10, status: 'in_progress' });
  advance(60);
  await report('c-free', { state_code: 10, status: 'completed' });
  expect((await builds.get('c-free')).body).not.toHaveProperty('cost');

  await stack.events!.drain();
  const byPlatform = await dashboard.costs('platform');
  expect(byPlatform.items).toEqual([
    { key: 'c-eu', currency: 'EUR', total: '1.200000', failed: '0.000000', avoided: '0.200000' },
    { key: 'c-aws', currency: 'USD', total: '0.185000', failed: '0.090000', avoided: '0.180000' },
  ]);
  expect(byPlatform.totals).toEqual([
    { currency: 'EUR', total: '1.200000', failed: '0.000000', avoided: '0.200000' },
    { currency: 'USD', total: '0.185000', failed: '0.090000', avoided: '0.180000' },
  ]);
  // The same sums under every group; project and image type hold both currencies apart.
  expect((await dashboard.costs('project')).items.map((i) => [i.key, i.currency, i.total])).toEqual([
    ['default', 'EUR', '1.200000'],
    ['default', 'USD', '0.185000'],
  ]);
  expect((await dashboard.costs('image_type')).items.map((i) => [i.key, i.currency, i.total])).toEqual([
    ['rhel9', 'EUR', '1.200000'],
    ['rhel9', 'USD', '0.185000'],
  ]);
  const byState = await dashboard.costs('state');
  expect(byState.items.map((i) => [i.key, i.currency, i.total, i.failed])).toEqual([
    ['10', 'EUR', '1.200000', '0.000000'],
    ['20', 'USD', '0.115000', '0.090000'],
    ['10', 'USD', '0.060000', '0.000000'],
    ['30', 'USD', '0.010000', '0.000000'],
  ]);
  expect(byState.totals).toEqual(byPlatform.totals);
  // A window that starts after these days counts none of them.
  advance(2 * 86_400);
  const later = await dashboard.costs('platform', new Date(now).toISOString().slice(0, 10));
  expect([later.items, later.totals]).toEqual([[], []]);
  advance(-2 * 86_400);

  // Exactly once: the whole stream delivered again, twice, and by two consumers at once.
  const records = await streamRecords(stack.tableName);
  const a = new Aggregator(services().db, stack.tableName);
  const b = new Aggregator(services().db, stack.tableName);
  const again = await a.apply(records);
  expect(again.applied).toBe(0);
  const [x, y] = await Promise.all([a.apply(records), b.apply(records)]);
  expect([x.applied, y.applied]).toEqual([0, 0]);
  expect((await dashboard.costs('platform')).items).toEqual(byPlatform.items);
  expect(byPlatform.read_capacity_units).toBeLessThanOrEqual(1);
});

it("prices the attempts a lease's taker starts at the rate it gave with the lease", async () => {
  await stack.call('POST', '/platforms', { id: 'p-lease', name: 'no price', cloud_provider: 'aws' });
  const made = await stack.call('POST', '/builds', { platform_id: 'p-lease', image_type_id: 'rhel9' });
  expect(made.status).toBe(201);
  const id = made.body.id;
  const refused = await stack.call('POST', `/builds/${id}/lease`, {
    worker_id: 'spot-9',
    hourly_cost: 'cheap',
  });
  expect([refused.status, refused.body.error.code]).toEqual([400, 'validation_error']);
  const lease = await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'spot-9', hourly_cost: '7.2' });
  expect(lease.status).toBe(201);
  const headers = { 'x-lease-id': lease.body.lease_id };
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'in_progress' }, headers);
  await new Promise((r) => setTimeout(r, 100));
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' }, headers);
  const history = (await stack.call('GET', `/builds/${id}/history`)).body.items as Json[];
  const priced = history.filter((h) => h.cost);
  expect(priced.map((h) => [h.state_code, h.cost.rate_source, h.cost.hourly_cost])).toEqual([
    [10, 'worker', '7.200000'],
  ]);
  // The platform has no price: the build's cost is the lease taker's alone.
  const build = (await stack.call('GET', `/builds/${id}`)).body;
  expect(build.cost.total).toBe(priced[0]!.cost.amount);
  expect(Number(build.cost.total)).toBeGreaterThan(0);
});

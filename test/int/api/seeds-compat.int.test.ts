/** The seeds' own curl examples (docs/API.md, "Compatibility with the seeds' API"), through the gateway. */

import { AGGREGATE_SHARDS } from '../../../lib/dashboard/aggregates';
import { version } from '../../../package.json';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
  for (const [path, body] of [
    ['/projects', { id: 'rhel-9', name: 'RHEL 9' }],
    ['/os-versions', { id: 'rhel-9.3', name: 'RHEL', version: '9.3' }],
    ['/image-types', { id: 'base', name: 'Base image' }],
  ] as const)
    expect((await stack.call('POST', path, body)).status).toBe(201);
});
afterAll(() => stack.stop());

const seedsBuild = () =>
  stack.call('POST', '/builds', {
    project_id: 'rhel-9',
    platform_id: 'aws-commercial',
    os_version_id: 'rhel-9.3',
    image_type_id: 'base',
    build_number: '2024.02.001',
  });

describe('trailing slash', () => {
  it('answers /platforms/ as /platforms, and a build path with a slash as without', async () => {
    const plain = await stack.call('GET', '/platforms');
    const slashed = await stack.call('GET', '/platforms/');
    expect(slashed.status).toBe(200);
    expect(slashed.body).toEqual(plain.body);
    expect(slashed.body.items.map((p: { id: string }) => p.id)).toContain('aws-commercial');

    const build = await seedsBuild();
    const got = await stack.call('GET', `/builds/${build.body.id}/`);
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(build.body.id);
  });

  it('redirects a page with a trailing slash to its own path, so its relative links still resolve', async () => {
    for (const page of ['/docs/', '/docs/?x=1']) {
      const res = await fetch(`${stack.url}${page}`, { redirect: 'manual' });
      expect(res.status).toBe(308);
      expect(res.headers.get('location')).toBe(page.replace('/?', '?').replace(/\/$/, ''));
    }
    expect((await fetch(`${stack.url}/docs/`)).url).toBe(`${stack.url}/docs`);
  });

  it('creates through a slashed path, and still 404s or 405s where the path without it would', async () => {
    const created = await stack.call('POST', '/image-types/', { id: 'slashed', name: 'Slashed' });
    expect(created.status).toBe(201);
    expect((await stack.call('GET', '/image-types/slashed')).status).toBe(200);
    const unknown = await stack.call('GET', '/nowhere/');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const wrongMethod = await stack.call('DELETE', '/builds/');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
  });
});

describe('POST /builds/{id}/state (the seeds’ singular path)', () => {
  it('takes the seeds’ report and records it as /states does, build_number kept as the string sent', async () => {
    const build = await seedsBuild();
    expect(build.status).toBe(201);
    expect(build.body.build_number).toBe('2024.02.001');
    const res = await stack.call(
      'POST',
      `/builds/${build.body.id}/state`,
      '{"state_code": 25, "status": "in_progress", "message": "Installing packages"}',
      { 'content-type': 'application/json' },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: build.body.id,
      project_id: 'rhel-9',
      build_number: '2024.02.001',
      current_state: 25,
      state_status: 'in_progress',
      status: 'in_progress',
      version: 2,
    });
    const history = await stack.call('GET', `/builds/${build.body.id}/history`);
    expect(history.body.items.at(-1)).toMatchObject({
      seq: 2,
      state_code: 25,
      message: 'Installing packages',
    });
  });

  it('applies the same rules: a regression is refused and changes nothing, a replayed key is recorded once', async () => {
    const { body: b } = await seedsBuild();
    expect(
      (await stack.call('POST', `/builds/${b.id}/state`, { state_code: 50, status: 'completed' })).status,
    ).toBe(201);
    const back = await stack.call('POST', `/builds/${b.id}/state`, { state_code: 40, status: 'in_progress' });
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('state_regression');

    const key = { 'idempotency-key': `seeds-${b.id}` };
    const first = await stack.call(
      'POST',
      `/builds/${b.id}/state`,
      { state_code: 55, status: 'in_progress' },
      key,
    );
    const again = await stack.call(
      'POST',
      `/builds/${b.id}/state`,
      { state_code: 55, status: 'in_progress' },
      key,
    );
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const history = await stack.call('GET', `/builds/${b.id}/history`);
    expect(history.body.items.map((i: { seq: number }) => i.seq)).toEqual([1, 2, 3]);
  });
});

/** The counters come from the table stream: wait until the aggregator has read everything committed. */
const settled = () => stack.events!.drain();

describe('GET /status', () => {
  it('shows version, uptime, both stores answering, and builds by status from the counters', async () => {
    const before = await stack.call('GET', '/status');
    expect(before.status).toBe(200);
    const { body: b } = await seedsBuild();
    await stack.call('POST', `/builds/${b.id}/states`, { state_code: 5, status: 'failed', error: 'boom' });
    await settled();
    const res = await stack.call('GET', '/status');
    expect(res.body).toMatchObject({
      status: 'ok',
      service: 'buildstate',
      version,
      checks: { table: 'ok', artifact_store: 'ok' },
    });
    expect(res.body.uptime_s).toBeGreaterThanOrEqual(0);
    expect(Date.parse(res.body.started_at)).toBeLessThanOrEqual(Date.parse(res.body.time));
    expect(res.body.builds.total).toBe(before.body.builds.total + 1);
    expect(res.body.builds.by_status.failed).toBe(before.body.builds.by_status.failed + 1);
    const summary = await stack.call('GET', '/dashboard/summary');
    expect(res.body.builds).toEqual({
      total: summary.body.builds.total,
      by_status: summary.body.builds.by_status,
      fanned_out: summary.body.builds.fanned_out,
    });
    const sumOf = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    expect(sumOf(res.body.builds.by_status)).toBe(res.body.builds.total);
  });

  it('costs the same reads with 20 more builds (the counters, never the builds)', async () => {
    // Enough builds that every counter shard has its item, then 20 more.
    for (let i = 0; i < 20; i++) await seedsBuild();
    await settled();
    const before = await stack.call('GET', '/status');
    for (let i = 0; i < 20; i++) await seedsBuild();
    await settled();
    const after = await stack.call('GET', '/status');
    expect(after.body.builds.total).toBe(before.body.builds.total + 20);
    expect(after.body.read_capacity_units).toBeGreaterThan(0);
    expect(after.body.read_capacity_units).toBe(before.body.read_capacity_units);
    expect(after.body.read_capacity_units).toBeLessThanOrEqual(AGGREGATE_SHARDS * 0.5);
  });

  it('needs read, and a read key has it', async () => {
    expect((await stack.call('GET', '/status', undefined, { 'x-api-key': '' })).status).toBe(401);
    const key = await stack.call('POST', '/api-keys', { name: 'viewer', scopes: ['read'] });
    const res = await stack.call('GET', '/status', undefined, { 'x-api-key': key.body.secret });
    expect(res.status).toBe(200);
  });

  // Last: it stops the local S3 server.
  it('says degraded, naming the artifact store, when the bucket does not answer', async () => {
    await stack.s3.stop();
    stack.s3.stop = async () => undefined; // stopped here: afterAll must not stop it again
    const res = await stack.call('GET', '/status');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'degraded',
      checks: { table: 'ok', artifact_store: 'unavailable' },
    });
    expect(res.body.builds.total).toBeGreaterThan(0);
  });
});

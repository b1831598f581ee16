/** The build API end to end: HTTP through the local gateway, real handlers, DynamoDB Local. */
import { ADMIN_ACTOR, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const newBuild = async (fields: Record<string, unknown> = {}) => {
  const res = await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9', ...fields });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
};
const report = (
  id: string,
  state_code: number,
  status: string,
  extra: Record<string, unknown> = {},
  headers = {},
) => stack.call('POST', `/builds/${id}/states`, { state_code, status, ...extra }, headers);
const history = async (id: string) =>
  (await stack.call('GET', `/builds/${id}/history?limit=500`)).body.items as { seq: number }[];

describe('authentication', () => {
  it('leaves /health open and requires a key everywhere else', async () => {
    expect((await stack.call('GET', '/health', undefined, { 'x-api-key': '' })).status).toBe(200);
    const missing = await fetch(`${stack.url}/builds`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await stack.call('GET', '/builds', undefined, { 'x-api-key': 'bst_wrong' });
    expect(wrong.status).toBe(401);
    expect((await stack.call('GET', '/ready')).body).toEqual({ status: 'ready', checks: { table: 'ok' } });
  });
});

describe('POST /builds', () => {
  it('creates a pending build at state 0 with every documented field', async () => {
    const res = await stack.call('POST', '/builds', {
      id: 'sap-image-2026-01-15-001',
      platform_id: 'aws',
      image_type_id: 'rhel8-webserver',
      os_version_id: 'rhel-8.7',
      build_number: 17,
      description: 'RHEL 8 base',
      metadata: { packerVersion: '1.9.1', targetRegions: ['us-east-1'] },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/builds/sap-image-2026-01-15-001');
    expect(res.headers.get('etag')).toBe('"1"');
    expect(Object.keys(res.body)).toEqual(
      expect.arrayContaining([
        'id',
        'project_id',
        'platform_id',
        'os_version_id',
        'image_type_id',
        'build_number',
        'description',
        'metadata',
        'current_state',
        'state_name',
        'status',
        'attempt',
        'max_attempts',
        'version',
        'progress_percent',
        'created_at',
        'updated_at',
        'started_at',
        'completed_at',
      ]),
    );
    expect(res.body).toMatchObject({
      id: 'sap-image-2026-01-15-001',
      project_id: 'default',
      build_number: '17',
      current_state: 0,
      state_name: 'Initial state',
      status: 'pending',
      version: 1,
      progress_percent: 0,
      max_attempts: 3,
      started_at: null,
    });
    expect((await stack.call('GET', '/builds/sap-image-2026-01-15-001')).body).toEqual(res.body);
  });

  it('generates sortable ids when the client chooses none', async () => {
    const a = await newBuild();
    const b = await newBuild();
    expect(a.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(b.id > a.id).toBe(true);
  });

  it('refuses a second build with the same id', async () => {
    await newBuild({ id: 'dup-1' });
    const again = await stack.call('POST', '/builds', {
      id: 'dup-1',
      platform_id: 'gcp',
      image_type_id: 'x',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('build_exists');
    expect((await stack.call('GET', '/builds/dup-1')).body.platform_id).toBe('aws');
  });
});

describe('the seeds flow: fail, retry, block, unblock, complete', () => {
  it('keeps state apart from status and records every attempt', async () => {
    const { id } = await newBuild({ id: 'flow-1' });
    expect((await report(id, 0, 'completed')).status).toBe(201);
    expect((await report(id, 5, 'in_progress', { worker_id: 'server-a' })).status).toBe(201);
    const failed = await report(id, 5, 'failed', { error: 'kickstart: network timeout' });
    expect(failed.body).toMatchObject({
      current_state: 5,
      status: 'failed',
      attempt: 1,
      progress_percent: 0,
      last_error: 'kickstart: network timeout',
    });
    expect((await stack.call('GET', `/builds/${id}/resume`)).body).toMatchObject({
      action: 'retry',
      state_code: 5,
      attempt: 2,
    });

    expect((await report(id, 5, 'in_progress')).body).toMatchObject({ attempt: 2, status: 'in_progress' });
    expect((await stack.call('GET', `/builds/${id}/resume`)).body).toMatchObject({
      action: 'wait',
      state_code: 5,
    });
    await report(id, 5, 'failed');
    const third = await report(id, 5, 'failed');
    expect(third.body).toMatchObject({ status: 'blocked', attempt: 3 });
    expect((await report(id, 5, 'in_progress')).body.error.code).toBe('blocked');
    expect((await stack.call('GET', `/builds/${id}/resume`)).body.action).toBe('blocked');

    const unblocked = await stack.call('POST', `/builds/${id}/unblock`, { reason: 'mirror fixed' });
    expect(unblocked.status).toBe(200);
    expect(unblocked.body).toMatchObject({ status: 'failed', max_attempts: 4 });
    expect((await report(id, 5, 'completed')).body).toMatchObject({ attempt: 4, progress_percent: 5 });
    expect((await stack.call('GET', `/builds/${id}/resume`)).body).toMatchObject({
      action: 'continue',
      state_code: 10,
      last_completed_state: 5,
    });

    expect((await report(id, 3, 'in_progress')).body.error.code).toBe('state_regression');
    expect((await report(id, 42, 'completed')).body).toMatchObject({
      current_state: 42,
      state_name: null,
      progress_percent: 42,
    });
    const done = await report(id, 100, 'completed');
    expect(done.body).toMatchObject({
      status: 'completed',
      progress_percent: 100,
      completed_at: expect.any(String),
    });
    expect((await report(id, 100, 'completed')).body.error.code).toBe('build_completed');
    expect((await stack.call('GET', `/builds/${id}/resume`)).body.action).toBe('done');

    const items = (await stack.call('GET', `/builds/${id}/history`)).body.items;
    expect(items.map((h: { seq: number }) => h.seq)).toEqual(
      Array.from({ length: items.length }, (_, i) => i + 1),
    );
    expect(items.map((h: { event: string }) => h.event)).toEqual([
      'build_created',
      'state_reported',
      'state_reported',
      'state_reported',
      'state_reported',
      'state_reported',
      'state_reported',
      'build_unblocked',
      'state_reported',
      'state_reported',
      'state_reported',
    ]);
    expect(items[7]).toMatchObject({ reason: 'mirror fixed', actor: ADMIN_ACTOR });
    expect(items[2]).toMatchObject({ state_code: 5, status: 'in_progress', worker_id: 'server-a' });
    expect(items[3]).toMatchObject({
      state_code: 5,
      status: 'failed',
      attempt: 1,
      error: 'kickstart: network timeout',
      worker_id: null,
    });
  });

  it('stops all reports after cancel', async () => {
    const { id } = await newBuild();
    await report(id, 10, 'in_progress');
    const cancelled = await stack.call('POST', `/builds/${id}/cancel`, { reason: 'superseded by build 18' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelled_at: expect.any(String) });
    expect((await report(id, 10, 'completed')).body.error.code).toBe('build_cancelled');
    expect((await stack.call('POST', `/builds/${id}/cancel`, { reason: 'again' })).body.error.code).toBe(
      'build_cancelled',
    );
    expect((await stack.call('GET', `/builds/${id}/resume`)).body.action).toBe('cancelled');
  });
});

describe('bad input', () => {
  it('answers 4xx in the error format and changes nothing', async () => {
    const { id } = await newBuild();
    await report(id, 10, 'in_progress');
    const before = (await stack.call('GET', `/builds/${id}`)).body;
    const attempts: [unknown, number, string][] = [
      [{ state_code: 200, status: 'completed' }, 400, 'validation_error'],
      [{ state_code: 10, status: 'finished' }, 400, 'validation_error'],
      [{ state_code: 10 }, 400, 'validation_error'],
      [{ state_code: 10, status: 'completed', surprise: true }, 400, 'validation_error'],
      ['[1,2', 400, 'validation_error'],
      ['"just a string"', 400, 'validation_error'],
      [{ state_code: 5, status: 'completed' }, 409, 'state_regression'],
      [{ state_code: 10, status: 'in_progress' }, 409, 'already_in_progress'],
    ];
    for (const [body, status, code] of attempts) {
      const res = await stack.call('POST', `/builds/${id}/states`, body);
      expect([res.status, res.body.error.code]).toEqual([status, code]);
      expect(typeof res.body.error.message).toBe('string');
      expect(res.body.error.details).toBeDefined();
    }
    expect((await stack.call('POST', `/builds/${id}/states`, '')).status).toBe(400);
    expect(
      (await stack.call('POST', `/builds/${id}/states`, JSON.stringify({ message: 'x'.repeat(70_000) })))
        .status,
    ).toBe(413);
    expect((await stack.call('GET', `/builds/${id}`)).body).toEqual(before);
    expect(await history(id)).toHaveLength(2);
  });

  it('answers unknown builds, bad ids, unknown routes and wrong methods', async () => {
    expect((await stack.call('GET', '/builds/nope-404')).body.error).toMatchObject({
      code: 'not_found',
      details: { build_id: 'nope-404' },
    });
    expect((await report('nope-404', 5, 'completed')).status).toBe(404);
    expect((await stack.call('GET', '/builds/%20bad')).status).toBe(400);
    expect((await stack.call('GET', '/nowhere')).status).toBe(404);
    const wrong = await stack.call('DELETE', '/builds');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, GET');
    expect((await stack.call('GET', '/builds?limit=abc')).body.error.code).toBe('validation_error');
    expect((await stack.call('GET', '/builds?colour=red')).body.error.message).toMatch(/unknown field/);
  });
});

describe('If-Match', () => {
  it('applies a change only to the version the client saw', async () => {
    const { id } = await newBuild();
    const stale = await report(id, 5, 'in_progress', {}, { 'if-match': '"7"' });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({
      code: 'precondition_failed',
      details: { current_version: 1, expected_version: 7 },
    });
    const ok = await report(id, 5, 'in_progress', {}, { 'if-match': '"1"' });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('etag')).toBe('"2"');
  });
});

describe('Idempotency-Key', () => {
  it('replays the original response for the same key and body, even after later changes', async () => {
    const { id } = await newBuild();
    const headers = { 'idempotency-key': `ci-${id}-5-start` };
    const first = await report(id, 5, 'in_progress', { worker_id: 'w1' }, headers);
    expect(first.status).toBe(201);
    await report(id, 5, 'completed');
    const again = await stack.call(
      'POST',
      `/builds/${id}/states`,
      '{ "worker_id": "w1", "status": "in_progress", "state_code": 5 }',
      headers,
    );
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // The first answer's ETag (the version it made), not the build's version now.
    expect(first.headers.get('etag')).toBeTruthy();
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await history(id)).toHaveLength(3);
  });

  it('rejects the same key with a different body with 422', async () => {
    const { id } = await newBuild();
    const headers = { 'idempotency-key': `k-${id}` };
    await report(id, 5, 'in_progress', {}, headers);
    const other = await report(id, 10, 'in_progress', {}, headers);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_mismatch');
    expect((await stack.call('GET', `/builds/${id}`)).body.current_state).toBe(5);
  });

  it('makes build creation safe to retry', async () => {
    const headers = { 'idempotency-key': 'create-once-1' };
    const body = { platform_id: 'azure', image_type_id: 'win2022' };
    const first = await stack.call('POST', '/builds', body, headers);
    const second = await stack.call('POST', '/builds', body, headers);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    const listed = await stack.call('GET', '/builds?platform_id=azure&limit=100');
    expect(
      listed.body.items.filter((b: { image_type_id: string }) => b.image_type_id === 'win2022'),
    ).toHaveLength(1);
  });

  it('rejects malformed keys', async () => {
    const { id } = await newBuild();
    expect((await report(id, 5, 'in_progress', {}, { 'idempotency-key': 'has spaces' })).status).toBe(400);
  });
});

describe('GET /builds', () => {
  it('filters, orders newest first and pages with an opaque cursor', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++)
      made.push((await newBuild({ project_id: 'paging', platform_id: i % 2 ? 'gcp' : 'aws' })).id);
    await report(made[0]!, 5, 'failed');
    await report(made[3]!, 5, 'failed');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await stack.call(
        'GET',
        `/builds?project_id=paging&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.items.map((b: { id: string }) => b.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());

    const failed = await stack.call('GET', '/builds?project_id=paging&status=failed');
    expect(failed.body.items.map((b: { id: string }) => b.id)).toEqual([made[3], made[0]]);
    const gcp = await stack.call('GET', '/builds?project_id=paging&platform_id=gcp&limit=2');
    expect(gcp.body.items.map((b: { id: string }) => b.id)).toEqual([made[5], made[3]]);
    const rest = await stack.call(
      'GET',
      `/builds?project_id=paging&platform_id=gcp&limit=2&cursor=${gcp.body.next_cursor}`,
    );
    expect(rest.body.items.map((b: { id: string }) => b.id)).toEqual([made[1]]);
    const byStatus = await stack.call('GET', '/builds?status=failed&limit=100');
    expect(byStatus.body.items.map((b: { id: string }) => b.id)).toEqual(
      expect.arrayContaining([made[0], made[3]]),
    );
    expect(byStatus.body.items.every((b: { status: string }) => b.status === 'failed')).toBe(true);

    const mixed = await stack.call('GET', `/builds?project_id=other&cursor=${gcp.body.next_cursor}`);
    expect(mixed.status).toBe(400);
    expect((await stack.call('GET', '/builds?cursor=bogus')).status).toBe(400);
  });
});

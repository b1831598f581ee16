/**
 * Two runtimes (two Lambda containers) serving one build: each keeps its own cache of builds it
 * has seen, so each is often stale. Stale caches may cost a retry, never a wrong answer.
 */

import { apiKeyIdFor, hashApiKey } from '../../../lib/auth/api-key';
import { ApiKeyRepository } from '../../../lib/auth/api-key.repository';
import { ApiKeyService } from '../../../lib/auth/api-key.service';
import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import { defaultCatalog } from '../../../lib/catalog/state-catalog';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
let a: BuildService;
let b: BuildService;
beforeAll(async () => {
  stack = await startTestStack();
  const container = () =>
    new BuildService({
      builds: new BuildRepository(services().db, stack.tableName),
      idempotency: new IdempotencyRepository(services().db, stack.tableName, 3600),
      catalogs: { forProject: async () => defaultCatalog },
      defaultMaxAttempts: 3,
    });
  a = container();
  b = container();
});
afterAll(() => stack.stop());

const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };
const base = { project_id: 'default', platform_id: 'aws', image_type_id: 'rhel9', metadata: {} };
const state = (outcome: { body: unknown }) =>
  outcome.body as { current_state: number; status: string; version: number };

describe('optimistic commits from per-runtime caches', () => {
  it('turns a stale acceptance into the right refusal', async () => {
    await a.create({ ...base, id: 'opt-1' }, actor);
    await a.report('opt-1', { state_code: 5, status: 'in_progress' }, actor);
    await b.report('opt-1', { state_code: 5, status: 'completed' }, actor);
    // a still believes 5 is in progress, where "completed" would be accepted.
    await expect(a.report('opt-1', { state_code: 5, status: 'completed' }, actor)).rejects.toMatchObject({
      code: 'state_completed',
    });
  });

  it('turns a stale refusal into the right acceptance', async () => {
    await a.create({ ...base, id: 'opt-2' }, actor);
    for (const status of ['failed', 'failed', 'failed'] as const)
      await a.report('opt-2', { state_code: 5, status }, actor);
    expect(state(await a.get('opt-2')).status).toBe('blocked');
    await b.unblock('opt-2', { reason: 'fixed', additional_attempts: 1 }, actor);
    // a's cache says blocked, which would refuse; the fresh read accepts.
    const retried = await a.report('opt-2', { state_code: 5, status: 'in_progress' }, actor);
    expect(state(retried)).toMatchObject({ status: 'in_progress', current_state: 5 });
  });

  it('does not answer 412 when only a lease call came between its read and its commit', async () => {
    await a.create({ ...base, id: 'opt-lease' }, actor);
    const { version } = state(await a.get('opt-lease'));
    // A runtime whose read is followed, before its commit, by a worker taking the lease (which
    // changes the build's lease_id, not its version).
    const repo = new BuildRepository(services().db, stack.tableName);
    let leased = false;
    const get = repo.get.bind(repo);
    repo.get = async (id) => {
      const build = await get(id);
      if (!leased) {
        leased = true;
        const lease = await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'w-opt', ttl_s: 60 });
        expect(lease.status).toBe(201);
      }
      return build;
    };
    const c = new BuildService({
      builds: repo,
      idempotency: new IdempotencyRepository(services().db, stack.tableName, 3600),
      catalogs: { forProject: async () => defaultCatalog },
      defaultMaxAttempts: 3,
    });
    const cancelled = await c.cancel('opt-lease', { reason: 'operator' }, actor, { ifMatch: version });
    expect(leased).toBe(true);
    expect(state(cancelled)).toMatchObject({ status: 'cancelled', version: version + 1 });
  });

  it('keeps history gap-free while runtimes alternate', async () => {
    await a.create({ ...base, id: 'opt-3' }, actor);
    for (let code = 0; code < 40; code++) {
      const svc = code % 3 === 0 ? b : a;
      await svc.report('opt-3', { state_code: code, status: 'in_progress' }, actor);
      await (code % 2 ? a : b).report('opt-3', { state_code: code, status: 'completed' }, actor);
    }
    const page = await services().builds.history('opt-3', { limit: 500 });
    const seqs = (page.body as { items: { seq: number }[] }).items.map((h) => h.seq);
    expect(seqs).toEqual(Array.from({ length: 81 }, (_, i) => i + 1));
    expect(state(await b.get('opt-3'))).toMatchObject({ current_state: 39, version: 81 });
  });
});

describe('API key verification cache', () => {
  it('trusts a verified key for its TTL only, and never an unknown one', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const repo = new ApiKeyRepository(services().db, stack.tableName);
    const auth = new ApiKeyService(repo, { cacheTtlSeconds: 5, now: () => now });
    const digest = hashApiKey('bst_cached');
    const record = {
      key_id: apiKeyIdFor(digest),
      name: 'ci',
      scopes: ['write' as const],
      secret_hash: digest,
      secret_hint: 'bst_cach…',
      created_at: now.toISOString(),
      created_by: 'test',
      expires_at: null,
      revoked_at: null,
      revoked_by: null,
      last_used_at: null,
    };
    await repo.put(record);
    expect((await auth.authenticate('bst_cached')).id).toBe(`key:${record.key_id}`);

    // Revoked behind this runtime's back (another runtime did it): trusted until the TTL runs out.
    await repo.put({ ...record, revoked_at: now.toISOString() });
    expect((await auth.authenticate('bst_cached')).id).toBe(`key:${record.key_id}`);
    now = new Date('2026-01-01T00:00:06Z');
    await expect(auth.authenticate('bst_cached')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(auth.authenticate('bst_never_stored')).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

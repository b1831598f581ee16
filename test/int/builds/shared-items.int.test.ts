/**
 * No item written by a change is shared by two builds: every kind of change (create, each kind of
 * report, with and without a lease, unblock, cancel, fork, with an Idempotency-Key) is committed on the
 * real engine while its TransactItems are recorded, and every key must belong to that build (its
 * partition: build, history, live item) or to that request (its idempotency record). So on
 * DynamoDB no two builds' changes can ever conflict (docs/DATA-MODEL.md).
 */
import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import type { Transaction } from '../../../lib/db/transaction';
import { fingerprint, idempotencyKey } from '../../../lib/idempotency/idempotency';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { LeaseRepository } from '../../../lib/leases/lease.repository';
import { LeaseService } from '../../../lib/leases/lease.service';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const actor = { id: 'key:shared', type: 'api_key' as const, name: 'shared', scopes: ['write' as const] };

/** A repository that records the parts of every transaction it commits. */
class RecordingRepository extends BuildRepository {
  readonly sent: { names: string[]; keys: ReturnType<Transaction['keys']> }[] = [];
  override commit(tx: Transaction) {
    this.sent.push({ names: tx.names(), keys: tx.keys() });
    return super.commit(tx);
  }
}

it('writes only items of the changed build (and of the request) in every kind of change', async () => {
  const { db, references } = services();
  const repo = new RecordingRepository(db, stack.tableName);
  const builds = new BuildService({
    builds: repo,
    idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
    catalogs: references,
    references,
    defaultMaxAttempts: 2,
  });
  const leases = new LeaseService({
    leases: new LeaseRepository(db, stack.tableName),
    getBuild: (id) => repo.get(id),
  });
  const key = (k: string, body: unknown) => ({
    idempotency: { key: k, principal: actor.id, fingerprint: fingerprint('POST', '/x', body) },
  });
  const kinds: [string, () => Promise<unknown>][] = [];
  const change = (name: string, run: () => Promise<unknown>) => kinds.push([name, run]);
  const id = 'shared-1';
  const input = { id, project_id: 'default', platform_id: 'aws', image_type_id: 'rhel9', metadata: {} };

  change('create', () => builds.create(input, actor, key('c-1', input)));
  change('report in_progress', () => builds.report(id, { state_code: 5, status: 'in_progress' }, actor));
  change('report completed', () => builds.report(id, { state_code: 5, status: 'completed' }, actor));
  change('report failed', () => builds.report(id, { state_code: 10, status: 'failed', error: 'e' }, actor));
  change('report failed → blocked', () =>
    builds.report(id, { state_code: 10, status: 'failed', error: 'e' }, actor, key('r-1', { n: 1 })),
  );
  change('unblock', () => builds.unblock(id, { reason: 'fixed', additional_attempts: 1 }, actor));
  change('report under a lease', async () => {
    const lease = await leases.acquire(id, { worker_id: 'w-1', ttl_s: 60 });
    return builds.report(id, { state_code: 10, status: 'in_progress' }, actor, { leaseId: lease.lease_id });
  });
  change('cancel', async () => {
    const other = { ...input, id: 'shared-2' };
    await builds.create(other, actor);
    return builds.cancel('shared-2', { reason: 'superseded' }, actor, key('x-1', other));
  });
  // A fork: one transaction per child, each of the child's own items only (never the parent's),
  // then the request's idempotency record on its own.
  const fork = {
    at_state: 5,
    children: [
      { platform_id: 'aws', metadata: {} },
      { platform_id: 'azure', metadata: {} },
    ],
  };
  change('fork', () => builds.fork(id, fork, actor, key('f-1', fork)));

  for (const [name, run] of kinds) {
    const before = repo.sent.length;
    await run();
    const mine = repo.sent.slice(before);
    expect({ name, transactions: mine.length > 0 }).toEqual({ name, transactions: true });
    for (const tx of mine) {
      const buildId = tx.keys.find((k) => k.name === 'build')?.key.pk as string | undefined;
      if (name === 'fork' && buildId) expect(buildId).not.toBe(`BUILD#${id}`);
      for (const k of tx.keys) {
        const ownsIt =
          k.key.pk === buildId ||
          (k.name === 'idempotency' && String(k.key.pk).startsWith(`IDEMP#${actor.id}#`));
        expect({ change: name, part: k.name, key: k.key, ownsIt }).toEqual({
          change: name,
          part: k.name,
          key: k.key,
          ownsIt: true,
        });
      }
    }
  }
  // Every kind was seen, and an idempotency record is keyed by its request, not by anything shared.
  expect(repo.sent.length).toBeGreaterThanOrEqual(kinds.length);
  const idem = repo.sent.flatMap((t) => t.keys).filter((k) => k.name === 'idempotency');
  expect(idem.map((k) => k.key)).toContainEqual(idempotencyKey(actor.id, 'c-1'));
  expect(new Set(repo.sent.flatMap((t) => t.names))).toEqual(
    new Set(['build', 'history', 'live', 'idempotency']),
  );
});

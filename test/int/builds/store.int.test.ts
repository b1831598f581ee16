/** Conditions, transactions and TTL handling of the repositories, on the real DynamoDB engine. */

import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import { applyReport } from '../../../lib/builds/transitions';
import { defaultCatalog } from '../../../lib/catalog/state-catalog';
import { GetCommand, PutCommand, QueryCommand } from '../../../lib/db/commands';
import { fingerprint, idempotencyKey } from '../../../lib/idempotency/idempotency';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { services } from '../../../lib/runtime';
import { ctx } from '../../helpers/builds';
import { ADMIN_ACTOR, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };
const input = { project_id: 'default', platform_id: 'aws', image_type_id: 'rhel9', metadata: {} };

function service(clock: () => Date) {
  const { db } = services();
  return new BuildService({
    builds: new BuildRepository(db, stack.tableName),
    idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
    catalogs: { forProject: async () => defaultCatalog },
    defaultMaxAttempts: 3,
    // Longer than the 2 h these tests move the clock: a silent attempt would be taken over
    // (worker_lost), which is not what the idempotency tests are about.
    heartbeatTimeoutSeconds: 4 * 3600,
    clock,
  });
}

describe('BuildRepository: a change as a transaction of named parts', () => {
  it('refuses a change computed from a stale version and writes neither item', async () => {
    const repo = new BuildRepository(services().db, stack.tableName);
    await service(() => new Date()).create({ ...input, id: 'stale-1' }, actor);
    const v1 = (await repo.get('stale-1'))!;
    const first = applyReport(v1, { state_code: 5, status: 'in_progress' }, ctx());
    expect(await repo.commit(repo.changeTransaction(first, v1))).toEqual({ committed: true });

    const fromStale = applyReport(v1, { state_code: 10, status: 'in_progress' }, ctx());
    const refused = await repo.commit(repo.changeTransaction(fromStale, v1));
    // Refused by name: the build part (its version condition) and the history part (seq 2 exists).
    expect(refused.committed ? [] : [...refused.failed].sort()).toEqual(['build', 'history']);
    expect((await repo.get('stale-1'))!.current_state).toBe(5);
    const items = await services().db.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'BUILD#stale-1' },
      }),
    );
    expect(items.Items?.map((i) => i.sk)).toEqual(['BUILD', 'HIST#0000000001', 'HIST#0000000002', 'LIVE']);
  });

  it('never overwrites a history item, even when asked to', async () => {
    const repo = new BuildRepository(services().db, stack.tableName);
    await service(() => new Date()).create({ ...input, id: 'append-1' }, actor);
    const v1 = (await repo.get('append-1'))!;
    const change = applyReport(v1, { state_code: 5, status: 'in_progress' }, ctx());
    await repo.commit(repo.changeTransaction(change, v1));
    // Same seq again with the version check satisfied: only the history condition can stop it.
    const forged = {
      build: { ...change.build, version: 3 },
      history: { ...change.history, message: 'rewritten' },
    };
    const result = await repo.commit(repo.changeTransaction(forged, change.build));
    expect(result.committed ? [] : [...result.failed]).toEqual(['history']);
    const page = await repo.history('append-1', 10);
    expect(page.items.map((h) => h.message)).toEqual([null, null]);
  });
});

describe('idempotency records', () => {
  it('are forgotten after their TTL even before DynamoDB deletes them', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const svc = service(() => now);
    const { body } = await svc.create({ ...input, id: 'ttl-1' }, actor);
    expect((body as { id: string }).id).toBe('ttl-1');
    const key = {
      key: 'ttl-key',
      principal: actor.id,
      fingerprint: fingerprint('POST', '/builds/ttl-1/states', { a: 1 }),
    };
    const first = await svc.report('ttl-1', { state_code: 5, status: 'in_progress' }, actor, {
      idempotency: key,
    });
    const replay = await svc.report('ttl-1', { state_code: 5, status: 'in_progress' }, actor, {
      idempotency: key,
    });
    expect(replay).toMatchObject({ replayed: true, body: first.body });

    now = new Date('2026-01-01T02:00:00Z'); // past the 1 h TTL
    const afterExpiry = svc.report('ttl-1', { state_code: 5, status: 'in_progress' }, actor, {
      idempotency: key,
    });
    await expect(afterExpiry).rejects.toMatchObject({ code: 'already_in_progress' });
    const reused = await svc.report('ttl-1', { state_code: 5, status: 'completed' }, actor, {
      idempotency: key,
    });
    expect(reused).toMatchObject({ replayed: false, outcome: 'created' });
  });

  it('keep the use case result (its outcome and body), never a status code', async () => {
    const svc = service(() => new Date());
    await svc.create({ ...input, id: 'rec-1' }, actor);
    const key = { key: 'rec-key', principal: actor.id, fingerprint: 'fp-rec' };
    const first = await svc.report('rec-1', { state_code: 5, status: 'in_progress' }, actor, {
      idempotency: key,
    });
    const { Item } = await services().db.send(
      new GetCommand({ TableName: stack.tableName, Key: idempotencyKey(actor.id, 'rec-key') }),
    );
    expect(JSON.parse(Item!.response as string)).toEqual({ outcome: 'created', body: first.body });
  });

  it('written before results carried outcomes ({status, body}) replay with the status and body the client got', async () => {
    const created = await stack.call('POST', '/builds', { ...input, id: 'legacy-1' });
    expect(created.status).toBe(201);
    const report = { state_code: 5, status: 'in_progress' };
    const headers = { 'idempotency-key': 'legacy-key' };
    const first = await stack.call('POST', '/builds/legacy-1/states', report, headers);
    expect(first.status).toBe(201);
    // The record as the previous release wrote it: the HTTP answer.
    await services().db.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: {
          ...idempotencyKey(ADMIN_ACTOR, 'legacy-key'),
          type: 'idempotency',
          fingerprint: fingerprint('POST', '/builds/legacy-1/states', report),
          response: JSON.stringify({ status: 201, body: first.body }),
          ttl: Math.floor(Date.now() / 1000) + 3600,
        },
      }),
    );
    await stack.call('POST', '/builds/legacy-1/states', { state_code: 5, status: 'completed' });
    const again = await stack.call('POST', '/builds/legacy-1/states', report, headers);
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
  });
});

/**
 * Images, ancestry, channels and revocation through the API (gateway, handlers, DynamoDB Local
 * and its stream): every rule and bad input, a cascade over 240 descendants, an interrupted
 * revocation finished by its retry, revocation racing forks, builds on a base and channel
 * assignments, and the events, each parsed with its contract.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildService } from '../../../lib/builds/build.service';
import { buildRepository } from '../../../lib/compose/builds';
import { ancestry, lineageRepository } from '../../../lib/compose/lineage';
import { idempotency, references } from '../../../lib/compose/references';
import type { TransactionResult } from '../../../lib/db/transaction';
import { EVENT_CONTRACTS } from '../../../lib/events/event.schema';
import { fingerprint } from '../../../lib/idempotency/idempotency';
import { RevocationService } from '../../../lib/lineage/revocation.service';
import { ADMIN_ACTOR, startTestStack, type TestStack } from '../../helpers/stack';

const dir = mkdtempSync(join(tmpdir(), 'bs-lineage-'));
const logFile = join(dir, 'events.jsonl');
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { logFile, checkpointFile: join(dir, 'cp.json'), pollMs: 50 } });
});
afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
type Logged = { 'detail-type': string; detail: Record<string, any> };
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

async function build(id: string, extra: Record<string, unknown> = {}) {
  const res = await stack.call('POST', '/builds', {
    id,
    platform_id: 'aws',
    image_type_id: 'rhel9',
    ...extra,
  });
  return res;
}
async function completed(id: string, extra: Record<string, unknown> = {}) {
  expect((await build(id, extra)).status).toBe(201);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 100, status: 'completed' })).status,
  ).toBe(201);
}
const image = (cloud: string, region: string, image_id: string) => ({ cloud, region, image_id });

describe('images', () => {
  it('records images once, lists them, and refuses bad input', async () => {
    await completed('img-1');
    const first = await stack.call('POST', '/builds/img-1/images', {
      ...image('aws', 'us-east-1', 'ami-0aaa'),
      name: 'rhel9-base-42',
      account: '123456789012',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ build_id: 'img-1', image_id: 'ami-0aaa', published_by: ADMIN_ACTOR });
    const again = await stack.call('POST', '/builds/img-1/images', image('aws', 'us-east-1', 'ami-0aaa'));
    expect(again.status).toBe(200);
    expect(again.body.published_at).toBe(first.body.published_at);
    expect(
      (await stack.call('POST', '/builds/img-1/images', image('aws', 'eu-west-1', 'ami-0bbb'))).status,
    ).toBe(201);
    const list = await stack.call('GET', '/builds/img-1/images');
    expect(list.body.items.map((i: { region: string }) => i.region).sort()).toEqual([
      'eu-west-1',
      'us-east-1',
    ]);
    expect((await stack.call('POST', '/builds/nope/images', image('aws', 'us-east-1', 'ami-1'))).status).toBe(
      404,
    );
    expect((await stack.call('GET', '/builds/nope/images')).status).toBe(404);
    const bad = await stack.call('POST', '/builds/img-1/images', image('AWS', 'us east', 'ami#1'));
    expect(bad.status).toBe(400);
    expect((await stack.call('GET', '/builds/img-1/images')).body.items).toHaveLength(2);
  });
});

describe('ancestry', () => {
  it('records base_build_id and answers ancestors and descendants over fork and base edges', async () => {
    await completed('anc-root');
    expect((await build('anc-mid', { base_build_id: 'anc-root' })).body.base_build_id).toBe('anc-root');
    expect(
      (await stack.call('POST', '/builds/anc-mid/states', { state_code: 50, status: 'completed' })).status,
    ).toBe(201);
    const fork = await stack.call('POST', '/builds/anc-mid/fork', {
      at_state: 50,
      children: [
        { id: 'anc-c1', platform_id: 'aws' },
        { id: 'anc-c2', platform_id: 'azure' },
      ],
    });
    expect(fork.status).toBe(201);
    const leaf = await stack.call('GET', '/builds/anc-c1/lineage');
    expect(leaf.body.ancestors.map((a: { build_id: string }) => a.build_id)).toEqual(['anc-mid', 'anc-root']);
    const root = await stack.call('GET', '/builds/anc-root/lineage');
    expect(root.body.ancestors).toEqual([]);
    expect(root.body.descendants.map((d: { build_id: string }) => d.build_id)).toEqual([
      'anc-c1',
      'anc-c2',
      'anc-mid',
    ]);
    // Paged: one at a time, with the cursor.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { descendants: { build_id: string }[]; next_cursor: string | null } } =
        await stack.call('GET', `/builds/anc-root/lineage?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.descendants.map((d) => d.build_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['anc-c1', 'anc-c2', 'anc-mid']);
    expect((await stack.call('GET', '/builds/anc-mid/lineage?cursor=forged')).status).toBe(400);
    expect((await stack.call('GET', '/builds/nope/lineage')).status).toBe(404);
    const unknownBase = await build('anc-x', { base_build_id: 'nope' });
    expect(unknownBase.status).toBe(422);
    expect(unknownBase.body.error.code).toBe('unknown_reference');
    expect((await stack.call('GET', '/builds/anc-x')).status).toBe(404);
  });
});

describe('channels', () => {
  it('promotes completed builds only, keeps every assignment, and narrows to one image', async () => {
    await build('ch-running');
    const notDone = await stack.call('PUT', '/channels/rhel9-base-prod', { build_id: 'ch-running' });
    expect(notDone.status).toBe(409);
    expect(notDone.body.error.code).toBe('not_completed');
    expect((await stack.call('GET', '/channels/rhel9-base-prod')).status).toBe(404);
    await completed('ch-1');
    await stack.call('POST', '/builds/ch-1/images', image('aws', 'us-east-1', 'ami-111'));
    await stack.call('POST', '/builds/ch-1/images', image('aws', 'eu-west-1', 'ami-222'));
    const set = await stack.call('PUT', '/channels/rhel9-base-prod', {
      build_id: 'ch-1',
      reason: 'passed QA',
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      name: 'rhel9-base-prod',
      build_id: 'ch-1',
      version: 1,
      reason: 'passed QA',
    });
    expect(set.body.images).toHaveLength(2);
    const one = await stack.call('GET', '/channels/rhel9-base-prod?cloud=aws&region=us-east-1');
    expect(one.status).toBe(200);
    expect(one.body.images.map((i: { image_id: string }) => i.image_id)).toEqual(['ami-111']);
    expect((await stack.call('GET', '/channels/rhel9-base-prod?cloud=gcp')).status).toBe(404);
    await completed('ch-2');
    expect((await stack.call('PUT', '/channels/rhel9-base-prod', { build_id: 'ch-2' })).body.version).toBe(2);
    expect((await stack.call('PUT', '/channels/rhel9-base-stage', { build_id: 'ch-1' })).status).toBe(200);
    const history = await stack.call('GET', '/channels/rhel9-base-prod/history');
    expect(
      history.body.items.map((h: { build_id: string; previous_build_id: string | null }) => [
        h.build_id,
        h.previous_build_id,
      ]),
    ).toEqual([
      ['ch-1', null],
      ['ch-2', 'ch-1'],
    ]);
    const list = await stack.call('GET', '/channels');
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['rhel9-base-prod', 'rhel9-base-stage']),
    );
    // Bad input changes nothing.
    expect((await stack.call('PUT', '/channels/Not_A_Slug!', { build_id: 'ch-1' })).status).toBe(400);
    expect((await stack.call('PUT', '/channels/rhel9-base-prod', { build_id: 'nope' })).status).toBe(404);
    expect((await stack.call('GET', '/channels/nope')).status).toBe(404);
    expect((await stack.call('GET', '/channels/nope/history')).status).toBe(404);
    expect((await stack.call('GET', '/channels/rhel9-base-prod')).body).toMatchObject({
      build_id: 'ch-2',
      version: 2,
    });
    // A replayed assignment is recorded once.
    const key = { 'Idempotency-Key': 'promote-ch-1-again' };
    const a = await stack.call('PUT', '/channels/rhel9-base-prod', { build_id: 'ch-1' }, key);
    const b = await stack.call('PUT', '/channels/rhel9-base-prod', { build_id: 'ch-1' }, key);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body.version).toBe(a.body.version);
    expect((await stack.call('GET', '/channels/rhel9-base-prod/history')).body.items).toHaveLength(3);
  });

  it('promotes a fan-out parent once its whole family completed, with every child image', async () => {
    expect((await build('fam')).status).toBe(201);
    await stack.call('POST', '/builds/fam/states', { state_code: 50, status: 'completed' });
    await stack.call('POST', '/builds/fam/fork', {
      at_state: 50,
      children: [
        { id: 'fam-us', platform_id: 'aws' },
        { id: 'fam-eu', platform_id: 'aws' },
      ],
    });
    await stack.call('POST', '/builds/fam-us/states', { state_code: 100, status: 'completed' });
    await stack.call('POST', '/builds/fam-us/images', image('aws', 'us-east-1', 'ami-us'));
    const early = await stack.call('PUT', '/channels/fam-prod', { build_id: 'fam' });
    expect(early.status).toBe(409);
    expect(early.body.error.details.not_completed).toEqual([{ build_id: 'fam-eu', status: 'in_progress' }]);
    await stack.call('POST', '/builds/fam-eu/states', { state_code: 100, status: 'completed' });
    await stack.call('POST', '/builds/fam-eu/images', image('aws', 'eu-west-1', 'ami-eu'));
    const set = await stack.call('PUT', '/channels/fam-prod', { build_id: 'fam' });
    expect(set.status).toBe(200);
    expect(set.body.images.map((i: { image_id: string }) => i.image_id).sort()).toEqual(['ami-eu', 'ami-us']);
    const eu = await stack.call('GET', '/channels/fam-prod?cloud=aws&region=eu-west-1');
    expect(eu.body.images).toEqual([expect.objectContaining({ build_id: 'fam-eu', image_id: 'ami-eu' })]);
  });
});

describe('revocation', () => {
  it('revokes a build and its descendants; channels, new builds and forks refuse it; restore undoes it', async () => {
    await completed('rv-base');
    await completed('rv-app', { base_build_id: 'rv-base' });
    await completed('rv-other');
    await stack.call('PUT', '/channels/rv-app-prod', { build_id: 'rv-app' });
    await stack.call('PUT', '/channels/rv-other-prod', { build_id: 'rv-other' });
    expect(
      (
        await stack.call(
          'POST',
          '/builds/rv-base/revoke',
          { reason: 'CVE-2026-1234' },
          { 'x-api-key': 'nope' },
        )
      ).status,
    ).toBe(401);
    const revoked = await stack.call('POST', '/builds/rv-base/revoke', { reason: 'CVE-2026-1234' });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({
      build_id: 'rv-base',
      root_id: 'rv-base',
      descendants: 1,
      newly_revoked: 2,
      already_revoked: 0,
    });
    const get = await stack.call('GET', '/channels/rv-app-prod');
    expect(get.status).toBe(409);
    expect(get.body.error).toMatchObject({
      code: 'revoked',
      details: { build_id: 'rv-app', revoked_build_id: 'rv-app', reason: 'CVE-2026-1234' },
    });
    expect((await stack.call('GET', '/channels/rv-other-prod')).status).toBe(200);
    expect((await stack.call('GET', '/builds/rv-app')).body).toMatchObject({
      revoked_reason: 'CVE-2026-1234',
      revoked_by: ADMIN_ACTOR,
    });
    const history = (await stack.call('GET', '/builds/rv-app/history')).body.items;
    expect(history.at(-1)).toMatchObject({ event: 'build_revoked', reason: 'CVE-2026-1234' });
    // Nothing new on it or under it.
    const onBase = await build('rv-new', { base_build_id: 'rv-app' });
    expect(onBase.status).toBe(409);
    expect(onBase.body.error.details.revoked_build_id).toBe('rv-app');
    expect((await stack.call('GET', '/builds/rv-new')).status).toBe(404);
    const fork = await stack.call('POST', '/builds/rv-base/fork', {
      at_state: 50,
      children: [{ platform_id: 'aws' }],
    });
    expect([409]).toContain(fork.status);
    expect((await stack.call('PUT', '/channels/rv-app-prod', { build_id: 'rv-app' })).body.error.code).toBe(
      'revoked',
    );
    // Again: 200, nothing new.
    const again = await stack.call('POST', '/builds/rv-base/revoke', { reason: 'another reason' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      revocation_id: revoked.body.revocation_id,
      reason: 'CVE-2026-1234',
      newly_revoked: 0,
      already_revoked: 2,
    });
    // Restoring the descendant alone is refused while its base is revoked.
    const early = await stack.call('POST', '/builds/rv-app/restore', {});
    expect(early.status).toBe(409);
    expect(early.body.error.details.revoked_build_id).toBe('rv-base');
    const restored = await stack.call('POST', '/builds/rv-base/restore', { reason: 'false positive' });
    expect(restored.body).toMatchObject({
      restored: 2,
      still_revoked: 0,
      revocation_id: revoked.body.revocation_id,
    });
    expect((await stack.call('GET', '/channels/rv-app-prod')).status).toBe(200);
    expect((await stack.call('GET', '/builds/rv-app')).body.revoked_at).toBeUndefined();
    expect((await stack.call('POST', '/builds/rv-base/restore')).body.restored).toBe(0);
    expect((await stack.call('POST', '/builds/nope/revoke', { reason: 'x' })).status).toBe(404);
    expect((await stack.call('POST', '/builds/rv-base/revoke', {})).status).toBe(400);
  });

  it('a restore leaves revoked what another revocation revokes', async () => {
    await completed('two-a');
    await completed('two-ab', { base_build_id: 'two-a' });
    await completed('two-c', { base_build_id: 'two-ab' });
    // two-ab and two-c are revoked by their own revocation first: two-a's finds them revoked already.
    await stack.call('POST', '/builds/two-ab/revoke', { reason: 'bad layer' });
    await stack.call('POST', '/builds/two-a/revoke', { reason: 'bad base' });
    const res = await stack.call('POST', '/builds/two-a/restore', {});
    expect(res.body).toMatchObject({ restored: 1, still_revoked: 2 });
    expect((await stack.call('GET', '/builds/two-c')).body.revoked_reason).toBe('bad layer');
  });

  it('cascades over 240 descendants, and an interrupted revocation is finished by its retry', async () => {
    await completed('big');
    // 2 generations: 12 builds on the base, each with a fork of 19 children = 12 + 228 = 240.
    for (let n = 0; n < 12; n++) {
      const id = `big-l${n}`;
      expect((await build(id, { base_build_id: 'big' })).status).toBe(201);
      await stack.call('POST', `/builds/${id}/states`, { state_code: 50, status: 'completed' });
      const fork = await stack.call('POST', `/builds/${id}/fork`, {
        at_state: 50,
        children: Array.from({ length: 19 }, (_, c) => ({ id: `${id}-c${c}`, platform_id: 'aws' })),
      });
      expect(fork.status).toBe(201);
    }
    const body = { reason: 'compromised signing key' };
    const key = 'revoke-big-1';
    // The first try dies after 57 builds (as a Lambda timing out would): its steps stay applied.
    const repo = buildRepository();
    let commits = 0;
    const dying = new Proxy(repo, {
      get(target, prop, receiver) {
        if (prop === 'commit')
          return async (...args: Parameters<typeof repo.commit>) => {
            if (++commits > 57) throw new Error('interrupted');
            return target.commit(...args);
          };
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const service = new RevocationService({
      builds: dying,
      lineage: lineageRepository(),
      idempotency: idempotency(),
    });
    const request = {
      key,
      principal: ADMIN_ACTOR,
      fingerprint: fingerprint('POST', '/builds/big/revoke', body),
    };
    await expect(
      service.revoke('big', body, { id: ADMIN_ACTOR } as never, { idempotency: request }),
    ).rejects.toThrow('interrupted');
    // Half-applied, but already unusable: a channel on a descendant not yet marked answers revoked.
    const lineage = await stack.call('GET', '/builds/big/lineage?limit=1000');
    expect(lineage.body.descendants).toHaveLength(240);
    const marked = lineage.body.descendants.filter((d: { revoked_at: string | null }) => d.revoked_at).length;
    expect(marked).toBe(56);
    const unmarked = lineage.body.descendants.find(
      (d: { revoked_at: string | null; status: string }) => !d.revoked_at,
    );
    await stack.call('POST', `/builds/${unmarked.build_id}/states`, { state_code: 100, status: 'completed' });
    expect(
      (await stack.call('PUT', '/channels/big-leaf', { build_id: unmarked.build_id })).body.error.code,
    ).toBe('revoked');
    // The retry with the same key finishes it. A slow machine may make a retry outlast the
    // gateway's 29 s (a 503, as in AWS): each one keeps what it marked, so retrying again finishes.
    const started = Date.now();
    let retry = await stack.call('POST', '/builds/big/revoke', body, { 'Idempotency-Key': key });
    const timedOut: number[] = [];
    while (retry.status === 503 && timedOut.length < 5) {
      timedOut.push(retry.status);
      retry = await stack.call('POST', '/builds/big/revoke', body, { 'Idempotency-Key': key });
    }
    // A figure for the report, not an assertion: how long marking the rest took here.
    process.stderr.write(
      `revoke: 184 builds marked in ${Date.now() - started} ms, ${timedOut.length} timed-out tries\n`,
    );
    expect(retry.status).toBe(200);
    expect(retry.body.descendants).toBe(240);
    expect(retry.body.newly_revoked + retry.body.already_revoked).toBe(241);
    if (timedOut.length === 0)
      expect(retry.body).toMatchObject({ newly_revoked: 240 - 56, already_revoked: 57 });
    const replay = await stack.call('POST', '/builds/big/revoke', body, { 'Idempotency-Key': key });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(retry.body);
    const after = await stack.call('GET', '/builds/big/lineage?limit=1000');
    expect(after.body.descendants.every((d: { revoked_at: string | null }) => d.revoked_at)).toBe(true);
    // Every build has exactly one build_revoked history entry.
    for (const d of after.body.descendants.slice(0, 30)) {
      const h = await stack.call('GET', `/builds/${d.build_id}/history`);
      expect(h.body.items.filter((e: { event: string }) => e.event === 'build_revoked')).toHaveLength(1);
    }
  }, 480_000);
});

describe('revocation races', () => {
  it('no fork child, build on a base or channel assignment made after a revocation escapes it', async () => {
    for (let round = 0; round < 3; round++) {
      const root = `race-${round}`;
      await completed(root);
      expect((await build(`${root}-p`, { base_build_id: root })).status).toBe(201);
      await stack.call('POST', `/builds/${root}-p/states`, { state_code: 50, status: 'completed' });
      await completed(`${root}-done`, { base_build_id: root });
      const forks = Array.from({ length: 3 }, (_, f) =>
        stack.call('POST', `/builds/${root}-p/fork`, {
          at_state: 50,
          children: Array.from({ length: 30 }, (_, c) => ({ id: `${root}-f${f}-${c}`, platform_id: 'aws' })),
        }),
      );
      const bases = Array.from({ length: 20 }, (_, n) =>
        build(`${root}-b${n}`, { base_build_id: `${root}-p` }),
      );
      const assign = stack.call('PUT', `/channels/${root}-prod`, { build_id: `${root}-done` });
      const revoke = stack.call('POST', `/builds/${root}/revoke`, { reason: 'race' });
      const results = await Promise.all([...forks, ...bases, assign, revoke]);
      for (const r of results) expect([200, 201, 409]).toContain(r.status);
      expect((await revoke).status).toBe(200);
      // Everything that exists under the root is revoked, whichever side won each race.
      const all = await stack.call('GET', `/builds/${root}/lineage?limit=1000`);
      const unrevoked = all.body.descendants.filter((d: { revoked_at: string | null }) => !d.revoked_at);
      expect(unrevoked).toEqual([]);
      for (let n = 0; n < 20; n++) {
        const b = await stack.call('GET', `/builds/${root}-b${n}`);
        if (b.status === 200) expect(b.body.revoked_at).toBeDefined();
      }
      const channel = await stack.call('GET', `/channels/${root}-prod`);
      if ((await assign).status === 200) expect(channel.body.error.code).toBe('revoked');
      else expect(channel.status).toBe(404);
    }
  }, 240_000);
});

describe('conflicts', () => {
  it('a create or fork cancelled by TransactionConflict on the ancestor markers is sent again, once applied', async () => {
    // DynamoDB Local never cancels for a conflict; real DynamoDB may, when creates on one base
    // check its marker at once. The first two sends of each transaction are answered as such.
    await completed('cf-base');
    const repo = buildRepository();
    const sends = new Map<unknown, number>();
    const conflicting = new Proxy(repo, {
      get(target, prop, receiver) {
        if (prop === 'commit')
          return async (tx: Parameters<typeof repo.commit>[0]) => {
            const n = (sends.get(tx) ?? 0) + 1;
            sends.set(tx, n);
            if (n <= 2)
              return {
                committed: false,
                failed: new Set(),
                conflict: true,
                old: () => undefined,
              } as TransactionResult;
            return target.commit(tx);
          };
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const service = new BuildService({
      builds: conflicting,
      ancestry: ancestry(),
      idempotency: idempotency(),
      catalogs: references(),
      references: references(),
      defaultMaxAttempts: 3,
    });
    const actor = { id: ADMIN_ACTOR } as never;
    const created = await service.create(
      {
        id: 'cf-app',
        project_id: 'default',
        platform_id: 'aws',
        image_type_id: 'rhel9',
        metadata: {},
        base_build_id: 'cf-base',
      },
      actor,
    );
    expect(created.outcome).toBe('created');
    await stack.call('POST', '/builds/cf-app/states', { state_code: 50, status: 'completed' });
    const forked = await service.fork(
      'cf-app',
      { at_state: 50, children: [{ id: 'cf-c1', platform_id: 'aws', metadata: {} }] },
      actor,
    );
    expect(forked.outcome).toBe('created');
    expect([...sends.values()]).toEqual([3, 3]);
    const lineage = await stack.call('GET', '/builds/cf-base/lineage');
    expect(lineage.body.descendants.map((d: { build_id: string }) => d.build_id)).toEqual([
      'cf-app',
      'cf-c1',
    ]);
  });
});

describe('events', () => {
  it('publishes Image Published, Channel Updated, Build Revoked and Build Restored, each by its contract', async () => {
    await completed('ev-1');
    await completed('ev-2', { base_build_id: 'ev-1' });
    await stack.call('POST', '/builds/ev-1/images', image('gcp', 'europe-west1', 'rhel9-ev-1'));
    await stack.call('POST', '/builds/ev-1/images', image('gcp', 'europe-west1', 'rhel9-ev-1'));
    await stack.call('PUT', '/channels/ev-prod', { build_id: 'ev-1', reason: 'first' });
    await stack.call('POST', '/builds/ev-1/revoke', { reason: 'ev test' });
    await stack.call('POST', '/builds/ev-1/revoke', { reason: 'ev test' });
    await stack.call('POST', '/builds/ev-1/restore', {});
    await stack.events!.drain();
    const events = logged();
    const of = (type: string, build: string) =>
      events.filter((e) => e['detail-type'] === type && e.detail.build_id === build);
    expect(of('Image Published', 'ev-1')).toHaveLength(1);
    expect(of('Image Published', 'ev-1')[0]!.detail).toMatchObject({ cloud: 'gcp', region: 'europe-west1' });
    const channel = events.filter(
      (e) => e['detail-type'] === 'Channel Updated' && e.detail.channel === 'ev-prod',
    );
    expect(channel.map((e) => e.detail.version)).toEqual([1]);
    for (const id of ['ev-1', 'ev-2']) {
      expect(of('Build Revoked', id)).toHaveLength(1);
      expect(of('Build Restored', id)).toHaveLength(1);
      expect(of('Build Revoked', id)[0]!.detail).toMatchObject({ root_id: 'ev-1', reason: 'ev test' });
    }
    const changes = of('Build State Changed', 'ev-2').map((e) => e.detail.change);
    expect(changes).toEqual(['build_created', 'state_reported', 'build_revoked', 'build_restored']);
  });
});

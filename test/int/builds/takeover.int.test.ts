/**
 * A worker that dies mid-state (kill -9: a lost VM, a reclaimed spot instance) does not leave the
 * build stuck: once its lease expires, resume answers retry naming it, and the next worker's
 * in_progress records the lost attempt failed (worker_lost) and starts the next one, in one
 * transaction. Real processes: `bldst run` under a lease, SIGKILLed, then another `bldst run`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

// Silence decides lease-less attempts: 10 s (the smallest allowed) keeps the test short.
process.env.BUILDSTATE_HEARTBEAT_TIMEOUT_S = '10';

import { BLDST_BIN, cliRunner } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const children: ChildProcess[] = [];
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await stack.stop();
});

const cli = cliRunner(() => stack.url);
const create = async () =>
  (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body.id as string;
const history = async (id: string) =>
  (await stack.call('GET', `/builds/${id}/history`)).body.items as Record<string, unknown>[];
/** Polls until `ready` holds (no timing is asserted: the test's own timeout bounds it). */
async function until<T>(read: () => Promise<T>, ready: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (ready(value)) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('takeover after a dead worker', () => {
  it('kill -9 of a `bldst run` under a lease, then another `bldst run` takes the state over', async () => {
    const id = await create();
    const dead = spawn(
      process.execPath,
      [BLDST_BIN, 'run', '--build', id, '--state', '25', '--lease-ttl', '5', '--', 'sleep', '600'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          XDG_CONFIG_HOME: join(cli.home, 'config'),
          BUILDSTATE_API_URL: stack.url,
          BUILDSTATE_API_TOKEN: ADMIN_KEY,
          BLDST_WORKER_ID: 'vm-dead',
        },
        stdio: 'ignore',
        detached: true,
      },
    );
    children.push(dead);
    await until(
      () => stack.call('GET', `/builds/${id}`),
      (r) => r.body.current_state === 25 && r.body.state_status === 'in_progress',
    );
    // The worker and its step go at once, like a VM that vanished.
    process.kill(-dead.pid!, 'SIGKILL');
    const alive = (await stack.call('GET', `/builds/${id}/resume`)).body;
    // Its lease (5 s) may still be live: then the build waits on it.
    if (alive.action === 'wait') expect(alive.reason).toMatch(/in progress on vm-dead/);
    const advice = await until(
      async () => (await stack.call('GET', `/builds/${id}/resume`)).body,
      (a) => a.action === 'retry',
    );
    expect(advice).toMatchObject({
      action: 'retry',
      state_code: 25,
      attempt: 2,
      lost_attempt: { state_code: 25, attempt: 1, worker_id: 'vm-dead', by: 'lease' },
    });
    expect(advice.reason).toMatch(
      /^Attempt 1 of state 25 was lost: vm-dead, silent since \S+ \(lease expired \S+\)/,
    );

    const next = await cli.run(['run', '--build', id, '--state', '25', '--', 'true'], {
      env: { BLDST_WORKER_ID: 'vm-2' },
    });
    expect(next.stderr).toMatch(/taking over state 25 from vm-dead, silent since 20\d\d-/);
    expect(next.stderr).toMatch(/state 25: in progress, attempt 2 of 3/);
    expect(next.code).toBe(0);
    const entries = await history(id);
    expect(entries.slice(1).map((h) => [h.status, h.attempt, h.worker_id, h.error_code ?? null])).toEqual([
      ['in_progress', 1, 'vm-dead', null],
      ['failed', 1, 'vm-dead', 'worker_lost'],
      ['in_progress', 2, 'vm-2', null],
      ['completed', 2, 'vm-2', null],
    ]);
    expect(entries.map((h) => h.seq)).toEqual([1, 2, 3, 4, 5]);
    // vm-2's `bldst run` took a lease before reporting: the entry still has vm-dead's signs, as resume saw them.
    const { silent_since, lease_expired_at } = advice.lost_attempt;
    expect(lease_expired_at).toEqual(expect.any(String));
    expect((entries[2]!.metadata as Record<string, unknown>).lost_attempt).toMatchObject({
      worker_id: 'vm-dead',
      silent_since,
      lease_expired_at,
    });
  });

  it('`bldst pipeline run` takes over too, and says so', async () => {
    const id = await create();
    const lease = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'vm-dead', ttl_s: 5 })).body;
    await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 5, status: 'in_progress', worker_id: 'vm-dead' },
      {
        'x-lease-id': lease.lease_id,
      },
    );
    await until(
      async () => (await stack.call('GET', `/builds/${id}/resume`)).body,
      (a) => a.action === 'retry',
    );
    const file = join(cli.home, `pipeline-${id}.yaml`);
    require('node:fs').writeFileSync(
      file,
      'steps:\n  - state: 5\n    name: base\n    run: "true"\n  - state: 100\n    name: deliver\n    run: "true"\n',
    );
    const run = await cli.run(['pipeline', 'run', file, '--build', id], { env: { BLDST_WORKER_ID: 'vm-3' } });
    expect(run.stderr).toMatch(/resume: retry — Attempt 1 of state 5 was lost: vm-dead/);
    expect(run.stderr).toMatch(/taking over state 5 from vm-dead, silent since/);
    expect(run.code).toBe(0);
    expect((await stack.call('GET', `/builds/${id}`)).body.status).toBe('completed');
  });

  it('two takeovers at once: exactly one wins; a late report under the dead worker’s lease changes nothing', async () => {
    const id = await create();
    const lease = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'vm-dead', ttl_s: 5 })).body;
    const dead = { 'x-lease-id': lease.lease_id };
    await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 25, status: 'in_progress', worker_id: 'vm-dead' },
      dead,
    );
    await until(
      async () => (await stack.call('GET', `/builds/${id}/lease`)).body.lease,
      (l) => l === null,
    );
    const racers = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        stack.call('POST', `/builds/${id}/states`, {
          state_code: 25,
          status: 'in_progress',
          worker_id: `vm-${n}`,
        }),
      ),
    );
    const won = racers.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    expect(won[0]!.body.took_over).toMatchObject({ worker_id: 'vm-dead', attempt: 1, by: 'lease' });
    for (const r of racers.filter((x) => x.status !== 201))
      expect([r.status, r.body.error.code]).toEqual([409, 'already_in_progress']);
    const before = await history(id);
    expect(before.filter((h) => h.error_code === 'worker_lost')).toHaveLength(1);

    // The dead worker comes back (a partition healed) and reports under its old lease: refused, nothing written.
    const late = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 25, status: 'completed' },
      dead,
    );
    expect([late.status, late.body.error.code]).toEqual([409, 'lease_lost']);
    const renew = await stack.call('PUT', `/builds/${id}/lease`, {}, dead);
    expect(renew.status).toBe(409);
    // Once someone else holds a lease, the old one stays refused.
    const holder = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'vm-9', ttl_s: 60 })).body;
    expect(holder.fence).toBe(2);
    const later = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 25, status: 'failed', error: 'x' },
      dead,
    );
    expect([later.status, later.body.error.code]).toEqual([409, 'lease_lost']);
    expect(await history(id)).toEqual(before);
  });

  it('without a lease, an attempt is lost once silent for BUILDSTATE_HEARTBEAT_TIMEOUT_S; a heartbeat keeps it', async () => {
    const id = await create();
    await stack.call('POST', `/builds/${id}/states`, {
      state_code: 10,
      status: 'in_progress',
      worker_id: 'ci-1',
    });
    const early = await stack.call('POST', `/builds/${id}/states`, {
      state_code: 10,
      status: 'in_progress',
      worker_id: 'ci-2',
    });
    expect([early.status, early.body.error.code]).toEqual([409, 'already_in_progress']);
    // Keep it alive with lease-less heartbeats past the timeout: still not lost.
    const start = Date.now();
    while (Date.now() - start < 11_000) {
      await stack.call('POST', `/builds/${id}/heartbeat`, { worker_id: 'ci-1' });
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect((await stack.call('GET', `/builds/${id}/resume`)).body.action).toBe('wait');
    const alive = await stack.call('POST', `/builds/${id}/states`, {
      state_code: 10,
      status: 'in_progress',
      worker_id: 'ci-2',
    });
    expect([alive.status, alive.body.error.code]).toEqual([409, 'already_in_progress']);
    // Then it goes silent.
    const advice = await until(
      async () => (await stack.call('GET', `/builds/${id}/resume`)).body,
      (a) => a.action === 'retry',
    );
    expect(advice.lost_attempt).toMatchObject({ worker_id: 'ci-1', by: 'silence', lease_expired_at: null });
    const taken = await stack.call('POST', `/builds/${id}/states`, {
      state_code: 10,
      status: 'in_progress',
      worker_id: 'ci-2',
    });
    expect(taken.status).toBe(201);
    expect(taken.body).toMatchObject({ attempt: 2, took_over: { worker_id: 'ci-1', by: 'silence' } });
  });

  it('a state that loses its worker every time blocks the build after 2 × max_attempts losses', async () => {
    const id = await create();
    let lease = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'spot-0', ttl_s: 5 })).body;
    const answers: string[] = [];
    for (let n = 0; n < 6; n++) {
      const r = await stack.call(
        'POST',
        `/builds/${id}/states`,
        { state_code: 15, status: 'in_progress', worker_id: `spot-${n}` },
        {
          'x-lease-id': lease.lease_id,
        },
      );
      answers.push(r.status === 201 ? `201 attempt ${r.body.attempt}` : `${r.status} ${r.body.error.code}`);
      if (r.status !== 201) break;
      // The worker dies; its lease ends (released here, to keep the test short: expiry is tested above).
      await stack.call('DELETE', `/builds/${id}/lease`, undefined, { 'x-lease-id': lease.lease_id });
      lease = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: `spot-${n + 1}`, ttl_s: 60 }))
        .body;
    }
    expect(answers).toEqual([
      '201 attempt 1',
      '201 attempt 2',
      '201 attempt 3',
      '201 attempt 4',
      '201 attempt 5',
      '201 attempt 6',
    ]);
    const blocking = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 15, status: 'in_progress', worker_id: 'spot-6' },
      {
        'x-lease-id': lease.lease_id,
      },
    );
    expect([blocking.status, blocking.body.error.code]).toEqual([409, 'blocked']);
    const build = (await stack.call('GET', `/builds/${id}`)).body;
    expect(build).toMatchObject({ status: 'blocked', state_status: 'failed', attempt: 6 });
    expect((await stack.call('GET', `/builds/${id}/resume`)).body.reason).toMatch(
      /lost its worker 6 times \(limit 6\)/,
    );
    const lost = (await history(id)).filter((h) => h.error_code === 'worker_lost');
    expect(lost).toHaveLength(6);
  });
});

describe('the lost attempt’s record: its worker’s real last sign of life, whichever way the next worker comes', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /**
   * w1 reports state 25 under a 5 s lease and renews it twice, 2 s apart, then dies. Returns the
   * last renewal's time (its server_time: the time the service recorded) and that lease's expiry.
   */
  async function diesAfterRenewals(id: string) {
    const lease = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'w1', ttl_s: 5 })).body;
    const w1 = { 'x-lease-id': lease.lease_id };
    const started = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 25, status: 'in_progress', worker_id: 'w1' },
      w1,
    );
    expect(started.status).toBe(201);
    let renewal: Record<string, string> = {};
    for (let n = 0; n < 2; n++) {
      await sleep(2000);
      const r = await stack.call('PUT', `/builds/${id}/lease`, {}, w1);
      expect(r.status).toBe(200);
      renewal = r.body;
    }
    return {
      lastSign: renewal.server_time!,
      expiredAt: renewal.expires_at!,
      leaseId: lease.lease_id as string,
    };
  }
  const lostEntry = async (id: string) => {
    const lost = (await history(id)).filter((h) => h.error_code === 'worker_lost');
    expect(lost).toHaveLength(1);
    return lost[0]!;
  };

  it.each([
    ['takes a lease first (as `bldst run` does)', true],
    ['reports without a lease', false],
  ])(
    'w2 %s: the worker_lost entry says when w1 was last alive and when its lease expired',
    async (_, leased) => {
      const id = await create();
      const { lastSign, expiredAt } = await diesAfterRenewals(id);
      const advice = await until(
        async () => (await stack.call('GET', `/builds/${id}/resume`)).body,
        (a) => a.action === 'retry',
      );
      const expected = { worker_id: 'w1', silent_since: lastSign, lease_expired_at: expiredAt, by: 'lease' };
      expect(advice.lost_attempt).toMatchObject(expected);

      const w2 = leased
        ? {
            'x-lease-id': (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'w2', ttl_s: 60 }))
              .body.lease_id,
          }
        : undefined;
      if (leased)
        expect((await stack.call('GET', `/builds/${id}/resume`)).body.lost_attempt).toMatchObject(expected);
      const taken = await stack.call(
        'POST',
        `/builds/${id}/states`,
        { state_code: 25, status: 'in_progress', worker_id: 'w2' },
        w2,
      );
      expect(taken.status).toBe(201);
      expect(taken.body.took_over).toMatchObject(expected);
      const entry = await lostEntry(id);
      expect(entry).toMatchObject({ status: 'failed', attempt: 1, worker_id: 'w1' });
      expect((entry.metadata as Record<string, unknown>).lost_attempt).toMatchObject(expected);
      expect(entry.error).toBe(`worker lost: w1, silent since ${lastSign} (lease expired ${expiredAt})`);
    },
  );

  it('a taker that died before reporting does not hide the first worker’s signs from the next one', async () => {
    const id = await create();
    const { lastSign, expiredAt } = await diesAfterRenewals(id);
    await until(
      async () => (await stack.call('GET', `/builds/${id}/resume`)).body,
      (a) => a.action === 'retry',
    );
    // w2 takes a lease and dies at once; its lease expires too, and w3 takes one and reports.
    await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'w2', ttl_s: 5 });
    await until(
      async () => (await stack.call('GET', `/builds/${id}/lease`)).body.lease,
      (l) => l === null,
    );
    const w3 = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'w3', ttl_s: 60 })).body;
    expect(w3.fence).toBe(3);
    const taken = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 25, status: 'in_progress', worker_id: 'w3' },
      { 'x-lease-id': w3.lease_id },
    );
    expect(taken.status).toBe(201);
    const expected = { worker_id: 'w1', silent_since: lastSign, lease_expired_at: expiredAt };
    expect(taken.body.took_over).toMatchObject(expected);
    expect(((await lostEntry(id)).metadata as Record<string, unknown>).lost_attempt).toMatchObject(expected);
  });

  it('a worker that restarts and takes a new lease while its old one is live: lost since its last renewal, not expired', async () => {
    const id = await create();
    const lease = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'w1', ttl_s: 60 })).body;
    const old = { 'x-lease-id': lease.lease_id };
    await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 25, status: 'in_progress', worker_id: 'w1' },
      old,
    );
    await sleep(50);
    const renewed = (await stack.call('PUT', `/builds/${id}/lease`, {}, old)).body;
    const again = (await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'w1', ttl_s: 60 })).body;
    const taken = await stack.call(
      'POST',
      `/builds/${id}/states`,
      { state_code: 25, status: 'in_progress', worker_id: 'w1' },
      { 'x-lease-id': again.lease_id },
    );
    expect(taken.status).toBe(201);
    const expected = { worker_id: 'w1', silent_since: renewed.server_time, lease_expired_at: null };
    expect(taken.body.took_over).toMatchObject(expected);
    expect(((await lostEntry(id)).metadata as Record<string, unknown>).lost_attempt).toMatchObject(expected);
  });
});

/**
 * Fan-out builds through the API (gateway, handlers, DynamoDB Local and its stream, s3rver):
 * POST /builds/{id}/fork, each child on its own, the parent's roll-up kept from the stream,
 * the parent's verified artifacts offered to a child's resume, races and idempotency.
 */
import { createHash } from 'node:crypto';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
  // The seeds' story: milestones every 10 (0, 10, …, 100).
  expect((await stack.call('POST', '/projects', { id: 'regions', name: 'Regions' })).status).toBe(201);
  const codes = Array.from({ length: 11 }, (_, n) => ({ code: n * 10, name: `state ${n * 10}` }));
  expect((await stack.call('PUT', '/projects/regions/state-codes', codes)).status).toBe(200);
});
afterAll(() => stack.stop());
/** The roll-up comes from the stream: wait until the aggregator has read everything committed so far. */
const settled = () => stack.events!.drain();

const sum = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-northeast-1'];

/** Counts every request the test sends, by build: the figure the closing note gives. */
const sent = new Map<string, number>();
async function report(id: string, state_code: number, status: string, extra: Record<string, unknown> = {}) {
  sent.set(id, (sent.get(id) ?? 0) + 1);
  return stack.call('POST', `/builds/${id}/states`, { state_code, status, ...extra });
}

async function base(id: string, upTo = 50, project_id = 'regions') {
  expect(
    (await stack.call('POST', '/builds', { id, project_id, platform_id: 'aws', image_type_id: 'rhel9' }))
      .status,
  ).toBe(201);
  for (const code of [10, 20, 30, 40, 50].filter((c) => c <= upTo))
    expect((await report(id, code, 'completed')).status).toBe(201);
}

/** Runs a child from its resume advice to 100, failing at `failAt` if given; returns the reports sent. */
async function runChild(id: string, failAt?: number): Promise<number> {
  let reports = 0;
  for (;;) {
    const resume = await stack.call('GET', `/builds/${id}/resume`);
    expect(resume.status).toBe(200);
    if (resume.body.action === 'done') return reports;
    const code = resume.body.state_code as number;
    const failed = code === failAt;
    const res = await report(id, code, failed ? 'failed' : 'completed', failed ? { error: 'quota' } : {});
    reports++;
    expect(res.status).toBe(201);
    if (failed) return reports;
  }
}

describe('the multi-region story', () => {
  it('forks six regions at 50; region 4 fails at 70 and is retried alone from 70', async () => {
    await base('mr-base', 40);
    // The base's state-50 artifact, reported with the state and verified.
    const art = {
      name: 'base.ami.json',
      storage_type: 's3',
      uri: 's3://images/base/ami.json',
      checksum: sum('ami'),
      size_bytes: 3,
    };
    expect((await report('mr-base', 50, 'completed', { artifacts: [art] })).status).toBe(201);
    const verified = await stack.call('POST', '/builds/mr-base/states/50/artifacts/base.ami.json/verify', {
      checksum: sum('ami'),
      size_bytes: 3,
    });
    expect(verified.status).toBe(200);

    const fork = await stack.call(
      'POST',
      '/builds/mr-base/fork',
      {
        at_state: 50,
        children: REGIONS.map((region, n) => ({
          id: `mr-r${n + 1}`,
          platform_id: 'aws-commercial',
          metadata: { region },
        })),
      },
      { 'idempotency-key': 'mr-fork' },
    );
    expect(fork.status).toBe(201);
    expect(fork.body.children.map((c: { id: string }) => c.id)).toEqual(
      REGIONS.map((_, n) => `mr-r${n + 1}`),
    );
    for (const child of fork.body.children)
      expect(child).toMatchObject({
        parent_id: 'mr-base',
        forked_at_state: 50,
        project_id: 'regions',
        image_type_id: 'rhel9',
        current_state: 50,
        state_status: 'completed',
        last_completed_state: 50,
        version: 1,
      });
    const history = await stack.call('GET', '/builds/mr-r4/history');
    expect(history.body.items).toEqual([
      expect.objectContaining({
        seq: 1,
        event: 'forked',
        state_code: 50,
        metadata: { parent_id: 'mr-base', parent_version: 6, at_state: 50 },
      }),
    ]);

    // Region 4's resume before it produced anything: the parent's verified state-50 artifact, by reference.
    const resume = await stack.call('GET', '/builds/mr-r4/resume');
    expect(resume.body).toMatchObject({ action: 'continue', state_code: 60 });
    expect(resume.body.input_artifacts).toEqual([
      expect.objectContaining({ build_id: 'mr-base', state_code: 50, name: 'base.ami.json', verified: true }),
    ]);

    // First run: every region in parallel, region 4 fails at 70.
    const firstRun = await Promise.all(
      REGIONS.map((_, n) => runChild(`mr-r${n + 1}`, n === 3 ? 70 : undefined)),
    );
    expect(firstRun).toEqual([5, 5, 5, 2, 5, 5]);
    await settled();
    const parent = await stack.call('GET', '/builds/mr-base');
    // Nothing runs and region 4 waits for its retry: the family, and so the parent, is failed
    // (API.md, A family's status); the parent's own states are where the fork left them.
    expect(parent.body).toMatchObject({ status: 'failed', current_state: 50, version: 7 });
    expect(parent.body.children).toEqual({
      total: 6,
      by_status: { pending: 0, in_progress: 0, failed: 1, blocked: 0, completed: 5, cancelled: 0 },
      lowest_progress_percent: 60,
      highest_progress_percent: 100,
    });
    // Region 4's failure changed no other child and not the parent's states.
    expect((await stack.call('GET', '/builds/mr-r3')).body.status).toBe('completed');

    // The re-run: ask each build what to do, report only what it says.
    sent.clear();
    const before = new Map<string, number>();
    for (const id of ['mr-base', ...REGIONS.map((_, n) => `mr-r${n + 1}`)]) {
      const resume = await stack.call('GET', `/builds/${id}/resume`);
      before.set(id, resume.body.state_code);
      if (id === 'mr-base') expect(resume.body).toMatchObject({ action: 'continue', state_code: 60 });
      else if (id !== 'mr-r4') expect(resume.body.action).toBe('done');
      else expect(resume.body).toMatchObject({ action: 'retry', state_code: 70, attempt: 2 });
    }
    expect(await runChild('mr-r4')).toBe(4);
    expect(Object.fromEntries(sent)).toEqual({ 'mr-r4': 4 });
    await settled();
    expect((await stack.call('GET', '/builds/mr-base')).body.children).toMatchObject({
      total: 6,
      by_status: { completed: 6, failed: 0 },
      lowest_progress_percent: 100,
    });
    // Every child completed: the family has ended, the parent with it.
    expect((await stack.call('GET', '/builds/mr-base')).body).toMatchObject({
      status: 'completed',
      current_state: 50,
    });

    const children = await stack.call('GET', '/builds/mr-base/children?limit=4');
    expect(children.status).toBe(200);
    expect(children.body.items).toHaveLength(4);
    const rest = await stack.call(
      'GET',
      `/builds/mr-base/children?limit=4&cursor=${children.body.next_cursor}`,
    );
    expect([...children.body.items, ...rest.body.items].map((b: { id: string }) => b.id).sort()).toEqual(
      REGIONS.map((_, n) => `mr-r${n + 1}`),
    );
    const listed = await stack.call('GET', '/builds?parent_id=mr-base&status=completed&limit=100');
    expect(listed.body.items).toHaveLength(6);
  });
});

describe('refusals and races', () => {
  it('refuses a fork at a state the parent has not completed, and changes nothing', async () => {
    await base('nr-base', 30);
    const res = await stack.call('POST', '/builds/nr-base/fork', {
      at_state: 50,
      children: [{ id: 'nr-c1', platform_id: 'aws' }],
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('state_not_reached');
    expect((await stack.call('GET', '/builds/nr-c1')).status).toBe(404);
    const unknown = await stack.call('POST', '/builds/nr-base/fork', {
      at_state: 30,
      children: [
        { id: 'nr-c2', platform_id: 'aws' },
        { id: 'nr-c3', platform_id: 'no-such-platform' },
      ],
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe('unknown_reference');
    expect((await stack.call('GET', '/builds/nr-c2')).status).toBe(404);
    const taken = await stack.call('POST', '/builds/nr-base/fork', {
      at_state: 30,
      children: [
        { id: 'nr-c4', platform_id: 'aws' },
        { id: 'nr-base', platform_id: 'aws' },
      ],
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('build_exists');
    expect((await stack.call('GET', '/builds/nr-c4')).status).toBe(404);
  });

  it('a fork racing with reports on the parent: both land, the parent keeps its own states', async () => {
    await base('race-base', 50, 'default');
    const reports = (async () => {
      const out = [];
      for (const code of [60, 70, 80]) out.push((await report('race-base', code, 'completed')).status);
      return out;
    })();
    const forks = Promise.all(
      [1, 2, 3].map((n) =>
        stack.call('POST', '/builds/race-base/fork', {
          at_state: 50,
          children: [{ id: `race-c${n}`, platform_id: 'azure' }],
        }),
      ),
    );
    const [statuses, forked] = await Promise.all([reports, forks]);
    expect(statuses).toEqual([201, 201, 201]);
    expect(forked.map((f) => f.status)).toEqual([201, 201, 201]);
    const parent = (await stack.call('GET', '/builds/race-base')).body;
    expect(parent).toMatchObject({ current_state: 80, version: 9 });
    for (const n of [1, 2, 3]) {
      const child = (await stack.call('GET', `/builds/race-c${n}`)).body;
      // Whatever parent version it saw, the child starts at 50 with the parent's states up to 50 only.
      expect(child).toMatchObject({ current_state: 50, last_completed_state: 50, parent_id: 'race-base' });
      const resume = (await stack.call('GET', `/builds/race-c${n}/resume`)).body;
      expect(resume).toMatchObject({ action: 'continue', state_code: 55 });
    }
  });

  it('two forks with the same Idempotency-Key make one set of children', async () => {
    await base('idem-base', 50);
    const body = {
      at_state: 40,
      children: [{ platform_id: 'aws' }, { platform_id: 'azure' }, { platform_id: 'gcp' }],
    };
    const [a, b] = await Promise.all(
      [1, 2].map(() =>
        stack.call('POST', '/builds/idem-base/fork', body, { 'idempotency-key': 'same-fork' }),
      ),
    );
    expect([a!.status, b!.status]).toEqual([201, 201]);
    expect(a!.body).toEqual(b!.body);
    const again = await stack.call('POST', '/builds/idem-base/fork', body, {
      'idempotency-key': 'same-fork',
    });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(a!.body);
    const children = await stack.call('GET', '/builds/idem-base/children');
    expect(children.body.items).toHaveLength(3);
    const other = await stack.call(
      'POST',
      '/builds/idem-base/fork',
      { ...body, at_state: 50 },
      { 'idempotency-key': 'same-fork' },
    );
    expect(other.status).toBe(422);
  });

  it('forks 100 children in one request, more than one transaction holds', async () => {
    await base('big-base', 50);
    const res = await stack.call(
      'POST',
      '/builds/big-base/fork',
      {
        at_state: 50,
        children: Array.from({ length: 100 }, (_, n) => ({ platform_id: 'aws', metadata: { n } })),
      },
      { 'idempotency-key': 'big' },
    );
    expect(res.status).toBe(201);
    expect(new Set(res.body.children.map((c: { id: string }) => c.id)).size).toBe(100);
    const tooMany = await stack.call('POST', '/builds/big-base/fork', {
      at_state: 50,
      children: Array.from({ length: 101 }, () => ({ platform_id: 'aws' })),
    });
    expect(tooMany.status).toBe(400);
    await settled();
    expect((await stack.call('GET', '/builds/big-base')).body.children).toMatchObject({
      total: 100,
      by_status: { in_progress: 100 },
      lowest_progress_percent: 50,
      highest_progress_percent: 50,
    });
  });
});

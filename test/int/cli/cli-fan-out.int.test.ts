/**
 * Fan-out through the real `bldst` binary against the local stack (gateway, handlers, DynamoDB
 * Local, s3rver): `build fork`, the multi-region story as one `pipeline run` with a `fan_out`,
 * and `watch PARENT`.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const { run: bldst, home } = cliRunner(() => stack.url);

beforeAll(async () => {
  buildCli();
  // With the stream read (aggregates, a family's status): watch shows the parent as its family ends.
  stack = await startTestStack({ events: { pollMs: 50 } });
  // The seeds' story: milestones every 10 (0, 10, …, 100).
  expect((await stack.call('POST', '/projects', { id: 'fanout-cli', name: 'Fan-out CLI' })).status).toBe(201);
  const codes = Array.from({ length: 11 }, (_, n) => ({ code: n * 10, name: `state ${n * 10}` }));
  expect((await stack.call('PUT', '/projects/fanout-cli/state-codes', codes)).status).toBe(200);
}, 60_000);
afterAll(() => stack.stop());

const json = (r: CliResult) => JSON.parse(r.stdout);
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-northeast-1'];

/** The state reports recorded in a build's history. */
async function reportsOf(id: string): Promise<number> {
  const history = await stack.call('GET', `/builds/${id}/history?limit=500`);
  expect(history.status).toBe(200);
  return history.body.items.filter((h: { event: string }) => h.event === 'state_reported').length;
}

/** The state reports one `bldst --verbose` run sent, by build (its request lines on stderr). */
function reportsSent(stderr: string): Record<string, number> {
  const sent: Record<string, number> = {};
  for (const [, id] of stderr.matchAll(/bldst: POST \/builds\/([^/\s]+)\/states → 201/g))
    sent[id!] = (sent[id!] ?? 0) + 1;
  return sent;
}

async function baseAt50(id: string) {
  expect(
    (
      await bldst([
        'build',
        'create',
        '--id',
        id,
        '--project-id',
        'fanout-cli',
        '--platform',
        'aws',
        '--image-type',
        'rhel9',
        '-q',
      ])
    ).code,
  ).toBe(0);
  for (const state of ['10', '20', '30', '40', '50'])
    expect(
      (await bldst(['build', 'add-state', id, '--state', state, '--status', 'completed', '-q'])).code,
    ).toBe(0);
}

describe('bldst build fork', () => {
  it('forks from --child flags, prints the children, and finds the same children when run again', async () => {
    await baseAt50('bf-base');
    const args = [
      'build',
      'fork',
      'bf-base',
      '--at',
      '50',
      '--child',
      'platform_id=aws-commercial,metadata.region=us-east-1,id=bf-use1',
      '--child',
      'platform_id=aws-commercial,metadata.region=eu-west-1,description=eu\\, the second',
    ];
    const first = await bldst([...args, '-o', 'json']);
    expect(first.code).toBe(0);
    const answer = json(first);
    expect(answer).toMatchObject({ parent_id: 'bf-base', at_state: 50 });
    expect(answer.children).toEqual([
      expect.objectContaining({
        id: 'bf-use1',
        parent_id: 'bf-base',
        forked_at_state: 50,
        platform_id: 'aws-commercial',
        metadata: { region: 'us-east-1' },
        current_state: 50,
      }),
      expect.objectContaining({ metadata: { region: 'eu-west-1' }, description: 'eu, the second' }),
    ]);
    expect(first.stderr).toMatch(
      /^forked bf-base at 50: 2 children \(fork f\w+, Idempotency-Key bldst-fork-[0-9a-f]{40}\)\n$/,
    );

    // The same command again (a retried CI job): the same fork, no new children.
    const again = await bldst([...args, '-q']);
    expect([again.code, again.stdout]).toEqual([0, `bf-use1\n${answer.children[1].id}\n`]);
    const listed = await stack.call('GET', '/builds/bf-base/children');
    expect(listed.body.items).toHaveLength(2);

    // A table on request, one row per child with its whole id.
    const table = await bldst([...args, '-o', 'table', '--wide'], { env: { NO_COLOR: '1' } });
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID\s+PLATFORM\s+TARGET\s+IMAGE TYPE\s+METADATA\s+STATE\s+STATUS\s+PROGRESS$/,
    );
    expect(table.stdout).toMatch(
      /bf-use1\s+aws-commercial\s+us-east-1\s+rhel9\s+\{"region":"us-east-1"\}\s+50 state 50\s+in_progress/,
    );
    expect(table.stderr).toMatch(/^the same fork again/);

    // Children from a YAML file, with typed metadata; another request, so another fork.
    writeFileSync(
      join(home, 'children.yaml'),
      '- { platform_id: azure, metadata: { region: westeurope, zones: 3 } }\n- { platform_id: gcp }\n',
    );
    const fromFile = await bldst([
      'build',
      'fork',
      'bf-base',
      '--at',
      '40',
      '--children-file',
      'children.yaml',
    ]);
    expect(fromFile.code).toBe(0);
    expect(json(fromFile).children.map((c: { metadata: unknown }) => c.metadata)).toEqual([
      { region: 'westeurope', zones: 3 },
      {},
    ]);
  });

  it('says what is wrong: exit 2 for a malformed --child, 3 for a state the parent has not completed', async () => {
    const malformed = await bldst([
      'build',
      'fork',
      'bf-base',
      '--at',
      '50',
      '--child',
      'platform_id=aws,region=x',
    ]);
    expect([malformed.code, malformed.stderr]).toEqual([
      2,
      expect.stringContaining("unknown field 'region'; fields: id, platform_id"),
    ]);
    expect((await bldst(['build', 'fork', 'bf-base', '--at', '50'])).code).toBe(2);
    expect((await bldst(['build', 'fork', 'bf-base', '--child', 'platform_id=aws'])).code).toBe(2);
    const early = await bldst(['build', 'fork', 'bf-base', '--at', '60', '--child', 'platform_id=aws']);
    expect([early.code, early.stderr]).toEqual([3, expect.stringMatching(/^bldst: state_not_reached: /)]);
    const unknown = await bldst([
      'build',
      'fork',
      'bf-base',
      '--at',
      '50',
      '--child',
      'platform_id=no-such-cloud',
    ]);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('unknown_reference')]);
  });
});

describe('the multi-region story through bldst pipeline run', () => {
  const step = (state: number, name: string, run: string) =>
    `    - { state: ${state}, name: ${name}, run: '${run} && echo "$BLDST_BUILD_ID ${state}" >> "$BLDST_PIPELINE_DIR/ran.log"' }`;
  const pipeline = `steps:
  - { state: 10, name: kickstart, run: 'echo "base 10" >> ran.log' }
  - { state: 20, name: packages, run: 'echo "base 20" >> ran.log' }
  - { state: 30, name: hardening, run: 'echo "base 30" >> ran.log' }
  - { state: 40, name: users, run: 'echo "base 40" >> ran.log' }
  - { state: 50, name: base-image, run: 'echo base-ami > base.ami.json; echo "base 50" >> ran.log', artifact: base.ami.json }
fan_out:
  at_state: 50
  targets:
${REGIONS.map((r, n) => `    - { id: mr-r${n + 1}, platform_id: aws-commercial, metadata: { region: ${r} }, env: { REGION: ${r} } }`).join('\n')}
  steps:
${[
  step(
    60,
    'copy-image',
    'echo "start $BLDST_BUILD_ID" >> "$BLDST_PIPELINE_DIR/overlap.log"; sleep 1; echo "end $BLDST_BUILD_ID" >> "$BLDST_PIPELINE_DIR/overlap.log"; test "$(cat "$BLDST_INPUT_ARTIFACT")" = base-ami && echo "copied to $REGION"',
  ),
  step(
    70,
    'regional-config',
    'if [ "$REGION" = eu-central-1 ] && [ ! -f "$BLDST_PIPELINE_DIR/quota-raised" ]; then echo "quota exceeded in $REGION" >&2; exit 7; fi; test "$(cat "$BLDST_INPUT_ARTIFACT")" = base-ami',
  ),
  step(80, 'test', 'true'),
  step(90, 'share', 'true'),
  step(100, 'publish', 'echo "published in $REGION"'),
].join('\n')}
`;

  it('base 0-50, six regions 60-100 in parallel, region 4 fails at 70; the re-run retries only region 4, from 70', async () => {
    const work = mkdtempSync(join(tmpdir(), 'bs-fanout-'));
    writeFileSync(join(work, 'regions.yaml'), pipeline);
    expect(
      (
        await bldst([
          'build',
          'create',
          '--id',
          'mr-base',
          '--project-id',
          'fanout-cli',
          '--platform',
          'aws',
          '--image-type',
          'rhel9',
          '-q',
        ])
      ).code,
    ).toBe(0);
    const children = REGIONS.map((_, n) => `mr-r${n + 1}`);
    const family = ['mr-base', ...children];
    const runIt = () =>
      bldst(
        [
          'pipeline',
          'run',
          'regions.yaml',
          '--build',
          'mr-base',
          '--workdir',
          work,
          '--parallel',
          '6',
          '--verbose',
        ],
        { cwd: work },
      );

    const first = await runIt();
    // Region 4's failing step decides the exit code; the other five completed.
    expect(first.code).toBe(7);
    expect(first.stderr).toMatch(/fork at 50: made 6 children \(fork f\w+\)/);
    expect(first.stderr).toMatch(/running 6 children, at most 6 at once/);
    expect(first.stderr).toMatch(/\[mr-r4\] quota exceeded in eu-central-1\n/);
    expect(first.stderr).toMatch(/5 of 6 children completed; run the pipeline again to resume mr-r4\n/);
    expect(first.stderr).toMatch(
      /mr-r4\s+aws-commercial eu-central-1\s+70 state 70\s+failed\s+4\s+exit code 7/,
    );
    // Each child's output, prefixed with its id.
    for (const [n, region] of REGIONS.entries())
      expect(first.stdout).toContain(`[mr-r${n + 1}] copied to ${region}\n`);
    expect(first.stdout).not.toContain('published in eu-central-1');
    expect(reportsSent(first.stderr)).toEqual({
      'mr-base': 10,
      'mr-r1': 10,
      'mr-r2': 10,
      'mr-r3': 10,
      'mr-r4': 4,
      'mr-r5': 10,
      'mr-r6': 10,
    });
    // The children ran side by side: at some moment more than one was in its state 60.
    let running = 0;
    let most = 0;
    for (const line of readFileSync(join(work, 'overlap.log'), 'utf8').trim().split('\n')) {
      running += line.startsWith('start') ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBeGreaterThan(1);

    const status = async () =>
      Object.fromEntries(
        await Promise.all(family.map(async (id) => [id, (await stack.call('GET', `/builds/${id}`)).body])),
      );
    const afterFirst = await status();
    expect(afterFirst['mr-base']).toMatchObject({
      status: 'in_progress',
      current_state: 50,
      last_completed_state: 50,
    });
    expect(afterFirst['mr-r4']).toMatchObject({ status: 'failed', current_state: 70, parent_id: 'mr-base' });
    for (const id of ['mr-r1', 'mr-r2', 'mr-r3', 'mr-r5', 'mr-r6'])
      expect(afterFirst[id]).toMatchObject({
        status: 'completed',
        forked_at_state: 50,
        progress_percent: 100,
      });
    // Each child ran under its own lease (the first of its build), taken and released.
    for (const id of family)
      expect((await stack.call('GET', `/builds/${id}/lease`)).body).toMatchObject({
        lease: null,
        lease_fence: 1,
      });

    // Region 4's resume offers the parent's state-50 artifact, verified (it has none of its own).
    const resume = await stack.call('GET', '/builds/mr-r4/resume');
    expect(resume.body).toMatchObject({ action: 'retry', state_code: 70, attempt: 2 });
    expect(resume.body.input_artifacts).toEqual([
      expect.objectContaining({ build_id: 'mr-base', state_code: 50, name: 'base.ami.json', verified: true }),
    ]);

    // The re-run, after the quota was raised.
    const recorded = Object.fromEntries(
      await Promise.all(family.map(async (id) => [id, await reportsOf(id)])),
    );
    writeFileSync(join(work, 'quota-raised'), '');
    const ranBefore = readFileSync(join(work, 'ran.log'), 'utf8').trim().split('\n');
    const second = await runIt();
    expect(second.code).toBe(0);
    // Reports sent in the re-run, by build: none for the base and regions 1-3, 5, 6; region 4 from 70.
    expect(reportsSent(second.stderr)).toEqual({ 'mr-r4': 8 });
    for (const id of family)
      expect([id, (await reportsOf(id)) - recorded[id]]).toEqual([id, id === 'mr-r4' ? 8 : 0]);
    expect(readFileSync(join(work, 'ran.log'), 'utf8').trim().split('\n').slice(ranBefore.length)).toEqual([
      'mr-r4 70',
      'mr-r4 80',
      'mr-r4 90',
      'mr-r4 100',
    ]);
    expect(second.stderr).toMatch(
      /bldst: resume: continue — .*\nbldst: nothing to run: every step is at or below the last completed state\n/,
    );
    expect(second.stderr).toMatch(/fork at 50: found the 6 children made before/);
    expect(second.stderr).toMatch(/\[mr-r1\] resume: done/);
    expect(second.stderr).toMatch(/\[mr-r4\] resume: retry — /);
    expect(second.stderr).toMatch(/\[mr-r4\] state 70: in progress, attempt 2 of 3\n/);
    expect(second.stderr).toMatch(
      /\[mr-r4\] input artifact of state 50: base.ami.json → \S+\/fan-out\/mr-r4\/\.bldst\/inputs\/50\/base\.ami\.json \(sha256:[0-9a-f]{64}, verified\)/,
    );
    expect(second.stderr).toMatch(
      /mr-r1\s+aws-commercial us-east-1\s+100 state 100\s+completed\s+0\s+completed before/,
    );
    expect(second.stderr).toMatch(
      /mr-r4\s+aws-commercial eu-central-1\s+100 state 100\s+completed\s+8\s+completed\n/,
    );
    expect(second.stderr).toMatch(/all 6 children completed\n/);
    expect(second.stdout).toContain('[mr-r4] published in eu-central-1\n');
    // No lease was taken on a build with nothing to do: only region 4's fence moved.
    for (const id of family)
      expect([id, (await stack.call('GET', `/builds/${id}/lease`)).body.lease_fence]).toEqual([
        id,
        id === 'mr-r4' ? 2 : 1,
      ]);
    expect(existsSync(join(work, 'fan-out', 'mr-r4', '.bldst', 'inputs', '50', 'base.ami.json'))).toBe(true);

    // watch PARENT: the parent's line, one bar per child, the roll-up; every child completed → exit 0.
    // The parent's status is its family's once the stream is read (the change it writes is read too).
    await stack.events!.drain();
    await stack.events!.drain();
    const watched = await bldst(['watch', 'mr-base', '--interval', '1']);
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^mr-base {2}\[#{10}\.{10}\] {2}50% {2}state 50 state 50 {2}completed/);
    // build list agrees: the parent is listed completed, not in progress.
    const listed = await bldst(['build', 'list', '--status', 'in_progress', '-q']);
    expect(listed.stdout.split('\n')).not.toContain('mr-base');
    const completed = await bldst(['build', 'list', '--status', 'completed', '-q']);
    expect(completed.stdout.split('\n')).toContain('mr-base');
    // Each child with the region its fork gave it, so the six read apart.
    for (const [n, id] of children.entries())
      expect(watched.stdout).toMatch(
        new RegExp(`\\n  ${id}\\s+${REGIONS[n]}\\s+\\[#{20}\\] 100%  state 100`),
      );
    expect(lines.at(-1)).toBe('6 children: 6 completed; lowest 100%, highest 100%');

    // A third run finds nothing to do anywhere.
    const third = await runIt();
    expect([third.code, reportsSent(third.stderr)]).toEqual([0, {}]);
  }, 180_000);

  it('refuses a fan_out whose steps do not come after the fork, with exit 2', async () => {
    writeFileSync(
      join(home, 'bad-fan-out.yaml'),
      "steps:\n  - { state: 60, name: a, run: 'true' }\nfan_out:\n  at_state: 50\n  targets: [{ platform_id: aws }]\n  steps: [{ state: 50, name: b, run: 'true' }]\n",
    );
    const r = await bldst(['pipeline', 'run', 'bad-fan-out.yaml', '--build', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the common steps run before the fork: 60 > fan_out.at_state 50/);
    writeFileSync(
      join(home, 'bad-target.yaml'),
      "fan_out:\n  at_state: 50\n  targets: [{ region: x }]\n  steps: [{ state: 60, name: b, run: 'true' }]\n",
    );
    const t = await bldst(['pipeline', 'run', 'bad-target.yaml', '--build', 'x']);
    expect([t.code, t.stderr]).toEqual([2, expect.stringMatching(/fan_out\.targets\.0\.platform_id/)]);
    expect(
      (await bldst(['pipeline', 'run', 'bad-target.yaml', '--build', 'x', '--parallel', '0'])).code,
    ).toBe(2);
  });
});

/** The built CLI as a subprocess against the local stack, the way pipelines run it. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../local/processes';
import { buildCli } from '../../helpers/cli';
import { ADMIN_ACTOR, ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const root = resolve(__dirname, '../../..');
const bin = join(root, 'bin', 'bldst.mjs');
let stack: TestStack;
const home = mkdtempSync(join(tmpdir(), 'bs-cli-'));

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function bldst(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: opts.cwd ?? home,
        env: {
          PATH: process.env.PATH ?? '',
          XDG_CONFIG_HOME: join(home, 'config'),
          BUILDSTATE_API_URL: stack.url,
          BUILDSTATE_API_TOKEN: ADMIN_KEY,
          BLDST_WORKER_ID: 'test-worker',
          ...opts.env,
        },
      },
      (error, stdout, stderr) =>
        resolvePromise({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const json = (r: Result) => JSON.parse(r.stdout);

describe('the seeds flow', () => {
  it('creates, reports, queries and maps errors to exit codes', async () => {
    const created = await bldst([
      'build',
      'create',
      '--platform',
      'aws',
      '--image-type',
      'rhel8',
      '--description',
      'RHEL 8 base image',
      '-q',
    ]);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^[0-9A-Z]{26}$/);

    expect((await bldst(['build', 'add-state', id, '--state', '5', '--status', 'in_progress'])).code).toBe(0);
    const conflict = await bldst(['build', 'add-state', id, '--state', '5', '--status', 'in_progress']);
    expect(conflict.code).toBe(3);
    expect(conflict.stderr.trim()).toBe(
      'bldst: already_in_progress: State 5 already has attempt 1 in progress',
    );

    const sum = `sha256:${'ab'.repeat(32)}`;
    const updated = await bldst([
      'build',
      'update',
      id,
      '--state',
      '10',
      '--status',
      'completed',
      '--storage-type',
      's3',
      '--storage-path',
      `s3://builds/${id}/base-image.qcow2`,
      '--checksum',
      sum,
    ]);
    expect(updated.code).toBe(0);
    expect(json(updated)).toMatchObject({ current_state: 10, progress_percent: 10 });
    const artifacts = json(await bldst(['artifact', 'list', id]));
    expect(artifacts.states[0].artifacts[0]).toMatchObject({
      name: 'base-image.qcow2',
      uri: `s3://builds/${id}/base-image.qcow2`,
      checksum: sum,
    });

    // A malformed checksum refuses the whole report: state 15 is not recorded either.
    const versionBefore = json(await bldst(['build', 'get', id])).version;
    const refused = await bldst([
      'build',
      'add-state',
      id,
      '--state',
      '15',
      '--status',
      'completed',
      '--storage-type',
      'nfs',
      '--storage-path',
      'nfs://filer01/builds/state-15.qcow2',
      '--checksum',
      'sha256:abc123...',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/checksum/);
    expect(json(await bldst(['build', 'get', id]))).toMatchObject({
      current_state: 10,
      version: versionBefore,
    });
    expect(
      (await bldst(['build', 'add-state', id, '--state', '15', '--status', 'completed', '--checksum', sum]))
        .code,
    ).toBe(2);

    expect(json(await bldst(['build', 'get', id]))).toMatchObject({
      id,
      current_state: 10,
      status: 'in_progress',
    });
    expect(
      json(await bldst(['build', 'list', '--platform-id', 'aws'])).map((b: { id: string }) => b.id),
    ).toContain(id);
    expect(json(await bldst(['build', 'history', id])).map((h: { seq: number }) => h.seq)).toEqual([1, 2, 3]);
    expect(json(await bldst(['build', 'resume', id]))).toMatchObject({ action: 'continue', state_code: 15 });
    const table = await bldst(['build', 'list', '-o', 'table']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+PROJECT\s+PLATFORM\s+IMAGE TYPE\s+STATE\s+STATUS/);

    expect((await bldst(['build', 'get', 'no-such-build'])).code).toBe(4);
    const denied = await bldst(['build', 'list'], { env: { BUILDSTATE_API_TOKEN: 'bst_wrong' } });
    expect([denied.code, denied.stderr.trim()]).toEqual([5, 'bldst: unauthorized: Invalid API key']);
    const bad = await bldst(['build', 'add-state', id, '--state', '500', '--status', 'completed']);
    expect([bad.code, bad.stderr]).toEqual([2, 'bldst: --state must be a state code 0-100\n']);
    expect((await bldst(['build', 'add-state', id, '--state', '15', '--status', 'done'])).code).toBe(2);
    expect((await bldst(['build', 'frobnicate'])).code).toBe(2);
    expect((await bldst(['build', 'get', id, '--bogus'])).code).toBe(2);
    for (const r of [denied, bad, conflict]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports an unreachable server as exit 6 after retrying', async () => {
    const r = await bldst(['build', 'list'], {
      env: { BUILDSTATE_API_URL: `http://127.0.0.1:${await freePort()}` },
    });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^bldst: cannot reach http:\/\/127\.0\.0\.1:\d+/);
  }, 20_000);
});

describe('config and auth', () => {
  it('stores url and key in a 0600 file that the environment overrides', async () => {
    const env = { BUILDSTATE_API_URL: '', BUILDSTATE_API_TOKEN: '' };
    expect((await bldst(['config', 'set-url', stack.url], { env })).code).toBe(0);
    expect((await bldst(['auth', 'set-key', ADMIN_KEY], { env })).code).toBe(0);
    const file = join(home, 'config', 'bldst', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: stack.url, api_key: ADMIN_KEY });
    const shown = json(await bldst(['config', 'show'], { env }));
    expect(shown).toMatchObject({ url: stack.url, url_source: 'config', api_key_source: 'config' });
    expect(shown.api_key).not.toContain(ADMIN_KEY);
    expect(json(await bldst(['auth', 'whoami'], { env })).id).toBe(ADMIN_ACTOR);
    expect(json(await bldst(['config', 'show'])).url_source).toBe('env');
    await bldst(['auth', 'logout'], { env });
    expect((await bldst(['auth', 'whoami'], { env })).code).toBe(5);
  });
});

describe('bldst run', () => {
  const newBuild = async () =>
    (await bldst(['build', 'create', '--platform-id', 'gcp', '--image-type-id', 'x', '-q'])).stdout.trim();

  it('holds a lease while the command runs and releases it at the end', async () => {
    const id = await newBuild();
    const marker = join(home, `running-${id}`);
    const release = join(home, `release-${id}`);
    // The command runs until the test has checked everything it holds (no race with a fixed sleep).
    const run = bldst([
      'run',
      '--build',
      id,
      '--state',
      '5',
      '--',
      'sh',
      '-c',
      `touch ${marker}; while [ ! -e ${release} ]; do sleep 0.05; done`,
    ]);
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50));
    const during = (await stack.call('GET', `/builds/${id}/lease`)).body;
    expect(during.lease).toMatchObject({ worker_id: 'test-worker', fence: 1 });
    // Nobody else may start the build meanwhile, and a report without the lease is refused.
    const other = await bldst(['run', '--build', id, '--state', '5', '--', 'true'], {
      env: { BLDST_WORKER_ID: 'w2' },
    });
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('being worked on by test-worker');
    const bare = await stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'completed' });
    expect(bare.body.error.code).toBe('lease_held');

    writeFileSync(release, '');
    expect((await run).code).toBe(0);
    const after = (await stack.call('GET', `/builds/${id}/lease`)).body;
    expect(after).toMatchObject({ lease: null, lease_fence: 1 });
    expect((await stack.call('GET', `/builds/${id}`)).body.state_status).toBe('completed');
  });

  it('stops the command when another worker takes the build over (fenced out)', async () => {
    const id = await newBuild();
    const marker = join(home, `fenced-${id}`);
    const run = bldst([
      'run',
      '--build',
      id,
      '--state',
      '5',
      '--lease-ttl',
      '6',
      '--',
      'sh',
      '-c',
      `touch ${marker}; exec sleep 30`,
    ]);
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50));
    // The same worker id taking the lease again (a restarted agent) fences the running one out.
    const takeover = await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'test-worker', ttl_s: 60 });
    expect(takeover.body.fence).toBe(2);
    const r = await run; // the next renewal (every 2 s) finds the lease lost and stops `sleep 30`
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('lease lost');
    expect((await stack.call('GET', `/builds/${id}`)).body.state_status).toBe('in_progress');
  }, 20_000);

  it('reports in_progress, runs, uploads the artifact, reports completed', async () => {
    const id = (
      await bldst(['build', 'create', '--platform-id', 'gcp', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    writeFileSync(join(home, 'image.raw'), 'image bytes');
    const r = await bldst([
      'run',
      '--build',
      id,
      '--state',
      '25',
      '--artifact',
      'image.raw',
      '--',
      'sh',
      '-c',
      'echo out; echo note >&2',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('out\n');
    const history = json(await bldst(['build', 'history', id]));
    expect(history.map((h: { status: string }) => h.status)).toEqual([null, 'in_progress', 'completed']);
    expect(history[1].worker_id).toBe('test-worker');
    const copy = await bldst([
      'artifact',
      'download',
      id,
      '--state',
      '25',
      '--name',
      'image.raw',
      '-O',
      'copy.raw',
    ]);
    expect([copy.code, readFileSync(join(home, 'copy.raw'), 'utf8')]).toEqual([0, 'image bytes']);
    const resume = json(await bldst(['build', 'resume', id]));
    expect(resume.input_artifacts[0]).toMatchObject({
      name: 'image.raw',
      verified: true,
      checksum: `sha256:${createHash('sha256').update('image bytes').digest('hex')}`,
    });
  });

  it('reports failed with the exit code and the last stderr lines, and passes the code through', async () => {
    const id = (
      await bldst(['build', 'create', '--platform-id', 'gcp', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    const r = await bldst([
      'run',
      '--build',
      id,
      '--state',
      '5',
      '--',
      'sh',
      '-c',
      'echo first >&2; echo "kickstart: timeout" >&2; exit 42',
    ]);
    expect(r.code).toBe(42);
    const build = json(await bldst(['build', 'get', id]));
    expect(build).toMatchObject({ current_state: 5, status: 'failed' });
    expect(build.last_error).toBe('exit code 42\nfirst\nkickstart: timeout');
    expect((await bldst(['run', '--build', id, '--state', '5', '--', 'no-such-command-xyz'])).code).toBe(127);
  });
});

describe('bldst pipeline run', () => {
  const pipeline = (dir: string) => `
steps:
  - { state: 10, name: kickstart, run: 'echo 10 >> "$LOG"' }
  - { state: 25, name: security-baseline, run: 'echo 25 >> "$LOG"; echo image-25 > image.qcow2', artifact: image.qcow2 }
  - { state: 50, name: users, run: 'echo 50 >> "$LOG"; test -f "${dir}/fixed" && test "$(cat "$BLDST_INPUT_ARTIFACT")" = image-25' }
  - { state: 75, name: tuning, run: 'echo 75 >> "$LOG"' }
  - { state: 100, name: publish, run: 'echo 100 >> "$LOG"' }
`;

  it('after a failure at 50, a second run repeats nothing that completed', async () => {
    const workA = mkdtempSync(join(tmpdir(), 'bs-worker-a-'));
    const workB = mkdtempSync(join(tmpdir(), 'bs-worker-b-'));
    const log = join(home, 'pipeline.log');
    writeFileSync(join(home, 'pipeline.yaml'), pipeline(home));
    const id = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'sap', '-q'])
    ).stdout.trim();

    // Worker A: 10 and 25 complete, 50 fails (the fix is not in place yet).
    const first = await bldst(
      ['pipeline', 'run', join(home, 'pipeline.yaml'), '--build', id, '--workdir', workA],
      { env: { LOG: log } },
    );
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/step 50 users failed; run the pipeline again to resume here/);
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['10', '25', '50']);

    // Worker B, another machine: resumes at 50 with the state-25 image, and finishes.
    // Each run held one lease for all its steps and released it: two runs, fences 1 and 2.
    expect((await stack.call('GET', `/builds/${id}/lease`)).body).toMatchObject({
      lease: null,
      lease_fence: 1,
    });
    const held = await stack.call('POST', `/builds/${id}/lease`, { worker_id: 'someone-else', ttl_s: 60 });
    const refused = await bldst([
      'pipeline',
      'run',
      join(home, 'pipeline.yaml'),
      '--build',
      id,
      '--workdir',
      workB,
    ]);
    expect([refused.code, refused.stderr]).toEqual([
      3,
      expect.stringContaining('being worked on by someone-else'),
    ]);
    await stack.call('DELETE', `/builds/${id}/lease`, undefined, { 'x-lease-id': held.body.lease_id });

    writeFileSync(join(home, 'fixed'), '');
    const second = await bldst(
      ['pipeline', 'run', join(home, 'pipeline.yaml'), '--build', id, '--workdir', workB],
      { env: { LOG: log } },
    );
    expect(second.code).toBe(0);
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual([
      '10',
      '25',
      '50',
      '50',
      '75',
      '100',
    ]);
    expect(second.stderr).toMatch(/skipping completed steps: 10 kickstart, 25 security-baseline/);
    expect(second.stderr).toMatch(/input artifact of state 25: image.qcow2 .* verified/);
    expect(readFileSync(join(workB, '.bldst', 'inputs', '25', 'image.qcow2'), 'utf8')).toBe('image-25\n');
    expect(existsSync(join(workB, 'image.qcow2'))).toBe(false);
    expect(second.stderr).toMatch(
      /step 1 of 3: 50 users\n.*\n?bldst: state 50: in progress, attempt 2 of 3\n/,
    );
    expect(second.stderr).toMatch(/step 3 of 3: 100 publish: completed in \d+s/);
    expect(json(await bldst(['build', 'get', id]))).toMatchObject({
      status: 'completed',
      progress_percent: 100,
    });

    // A third run finds nothing to do.
    const third = await bldst(
      ['pipeline', 'run', join(home, 'pipeline.yaml'), '--build', id, '--workdir', workB],
      { env: { LOG: log } },
    );
    expect(third.code).toBe(0);
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toHaveLength(6);
  }, 60_000);

  it('retries a failing state with backoff and stops clearly when the build is blocked', async () => {
    writeFileSync(
      join(home, 'flaky.json'),
      JSON.stringify({ steps: [{ state: 5, name: 'flaky', run: 'exit 3', retries: 5 }] }),
    );
    const id = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    const r = await bldst(['pipeline', 'run', 'flaky.json', '--build', id, '--retry-delay', '10']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/bldst: build .* is blocked: state 5 \(flaky\) used all its attempts/);
    expect(json(await bldst(['build', 'get', id]))).toMatchObject({ status: 'blocked', attempt: 3 });
    const again = await bldst(['pipeline', 'run', 'flaky.json', '--build', id]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/unblock the build/);
    // A report to the blocked build: the service's refusal, with the bldst command to unblock it.
    const refused = await bldst(['build', 'add-state', id, '--state', '5', '--status', 'in_progress']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`blocked: Build is blocked after 3 failed attempts`);
    expect(refused.stderr).toContain(`; with bldst: bldst build unblock ${id} --reason "…"`);
  }, 30_000);

  it('gives each step the artifact of the latest completed state before it, even on a fresh run', async () => {
    const work = mkdtempSync(join(tmpdir(), 'bs-inputs-'));
    writeFileSync(
      join(home, 'chain.yaml'),
      `steps:
  - { state: 10, name: base, run: 'echo base > a.img', artifact: a.img }
  - { state: 20, name: harden, run: 'test "$(cat "$BLDST_INPUT_ARTIFACT")" = base && echo hardened > b.img', artifact: b.img }
  - { state: 30, name: check, run: 'echo "$BLDST_INPUT_ARTIFACT" > seen; test "$(cat "$BLDST_INPUT_ARTIFACT")" = hardened' }
`,
    );
    const id = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    const r = await bldst(['pipeline', 'run', 'chain.yaml', '--build', id, '--workdir', work]);
    expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('input artifact of state 20: b.img')]);
    expect(readFileSync(join(work, 'seen'), 'utf8').trim()).toBe(
      join(work, '.bldst', 'inputs', '20', 'b.img'),
    );
  });

  it('shows a live line for the running step on a terminal only', async () => {
    writeFileSync(
      join(home, 'slow.yaml'),
      "steps:\n  - { state: 10, name: slow, run: 'sleep 2.5; echo done' }\n",
    );
    const id = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    const piped = await bldst(['pipeline', 'run', 'slow.yaml', '--build', id]);
    expect(piped.stderr).not.toContain('running');
    const id2 = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    const tty = await new Promise<string>((done) =>
      execFile(
        'script',
        ['-qec', `"${process.execPath}" "${bin}" pipeline run slow.yaml --build ${id2}`, '/dev/null'],
        {
          cwd: home,
          env: {
            PATH: process.env.PATH ?? '',
            XDG_CONFIG_HOME: join(home, 'config'),
            BUILDSTATE_API_URL: stack.url,
            BUILDSTATE_API_TOKEN: ADMIN_KEY,
          },
        },
        (_e, stdout) => done(stdout),
      ),
    );
    expect(tty).toMatch(/step 1 of 1: 10 slow — running [12]s/);
    expect(tty).toContain('done');
  }, 30_000);

  it('rejects malformed pipeline files with exit 2', async () => {
    writeFileSync(join(home, 'bad.yaml'), 'steps:\n  - { state: 10, name: a }\n');
    const r = await bldst(['pipeline', 'run', 'bad.yaml', '--build', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/steps\.0\.run/);
  });
});

describe('bldst watch', () => {
  it('shows progress until the build ends, with its outcome as exit code', async () => {
    const id = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    await bldst(['build', 'add-state', id, '--state', '100', '--status', 'completed']);
    const done = await bldst(['watch', id, '--interval', '1']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      new RegExp(
        `^${id}  \\[#{20}\\] 100%  state 100 Complete and delivered  completed  attempt 1 of 3  on test-worker\n$`,
      ),
    );
    const cancelled = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    await bldst(['build', 'cancel', cancelled, '--reason', 'test']);
    expect((await bldst(['watch', cancelled])).code).toBe(3);
    // -o json: JSON lines (here the one line of a build that has ended), not the text line.
    const asJson = await bldst(['watch', id, '-o', 'json']);
    expect(asJson.code).toBe(0);
    const lines = asJson.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ id, status: 'completed', current_state: 100 });
    const all = await bldst(['watch', '-o', 'json']);
    expect(Array.isArray(JSON.parse(all.stdout))).toBe(true);
  });
});

describe('--sigv4', () => {
  it('signs with credentials from the AWS chain and sends no API key', async () => {
    let seen: Record<string, string | string[] | undefined> = {};
    const server = createServer((req, res) => {
      seen = req.headers;
      res.setHeader('content-type', 'application/json');
      res.end('{"id":"arn","type":"iam","name":"arn","scopes":["write"]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const r = await bldst(['auth', 'whoami', '--sigv4', '-q'], {
        env: {
          BUILDSTATE_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_SESSION_TOKEN: 'session-token',
          AWS_REGION: 'eu-west-1',
        },
      });
      expect([r.code, r.stdout]).toEqual([0, 'arn\n']);
    } finally {
      server.close();
    }
    expect(String(seen.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*host;/,
    );
    expect(seen['x-amz-security-token']).toBe('session-token');
    expect(seen['x-api-key']).toBeUndefined();
  });
});

describe('help, version, completion', () => {
  it('answers --version and --help and prints completion scripts', async () => {
    expect((await bldst(['--version'])).stdout).toBe(
      `bldst ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`,
    );
    const help = await bldst(['pipeline', 'run', '--help']);
    expect(help.stdout).toMatch(/Examples:\n {2}bldst pipeline run pipeline.yaml --build \$BUILD_ID/);
    expect((await bldst(['completion', 'bash'])).stdout).toMatch(/complete -F _bldst bldst/);
    expect((await bldst(['completion', 'zsh'])).stdout).toMatch(/bashcompinit/);
    expect(existsSync(bin)).toBe(true);
  });
});

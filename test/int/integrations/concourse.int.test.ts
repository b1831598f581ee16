/**
 * The Concourse resource type (integrations/concourse): opt/resource/{check,in,out} run as a
 * Concourse worker runs them — JSON on stdin, a directory argument for in/out, the BUILD_*
 * variables for in and out only — against the local stack.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildConcourse } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';
import { runTool, type ToolResult } from '../../helpers/tools';

const root = resolve(__dirname, '../../..');
const resource = join(root, 'integrations', 'concourse', 'opt', 'resource');
let stack: TestStack;
const work = mkdtempSync(join(tmpdir(), 'bs-concourse-'));

beforeAll(async () => {
  buildConcourse();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

type Version = { build_id: string; state_code: string; seq: string };

/** What Concourse sets for in and out (check gets none of it). */
const concourseEnv = (buildId: string) => ({
  BUILD_ID: buildId,
  BUILD_NAME: '7',
  BUILD_JOB_NAME: 'bake-image',
  BUILD_PIPELINE_NAME: 'rhel9',
  BUILD_TEAM_NAME: 'main',
  ATC_EXTERNAL_URL: 'https://ci.example.com',
});

function step(
  script: 'check' | 'in' | 'out',
  payload: unknown,
  args: string[] = [],
  env = {},
): Promise<ToolResult> {
  return runTool(join(resource, script), args, {
    input: JSON.stringify(payload),
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

async function ok(result: Promise<ToolResult>) {
  const r = await result;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const source = (extra: Record<string, unknown>) => ({ api_url: stack.url, api_key: ADMIN_KEY, ...extra });

async function newBuild(fields: Record<string, unknown> = {}): Promise<string> {
  const created = await stack.call('POST', '/builds', {
    platform_id: 'aws',
    image_type_id: 'rhel9',
    ...fields,
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function report(id: string, state_code: number, status: string) {
  const r = await stack.call('POST', `/builds/${id}/states`, { state_code, status });
  expect(r.status).toBe(201);
  return r.body.version as number;
}

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('check', () => {
  it("with build_id: the build's completed states; the latest without a version, it and newer ones with one", async () => {
    const id = await newBuild();
    expect(await ok(step('check', { source: source({ build_id: id }) }))).toEqual([]);
    await report(id, 10, 'in_progress');
    const v10 = await report(id, 10, 'completed');
    await report(id, 20, 'failed');
    const v20 = await report(id, 20, 'completed');
    const v30 = await report(id, 30, 'completed');
    const at = (code: number, seq: number): Version => ({
      build_id: id,
      state_code: String(code),
      seq: String(seq),
    });

    expect(await ok(step('check', { source: source({ build_id: id }) }))).toEqual([at(30, v30)]);
    expect(await ok(step('check', { source: source({ build_id: id }), version: at(10, v10) }))).toEqual([
      at(10, v10),
      at(20, v20),
      at(30, v30),
    ]);
    expect(await ok(step('check', { source: source({ build_id: id }), version: at(30, v30) }))).toEqual([
      at(30, v30),
    ]);
    // A version that is not (or no longer) one of this source's: start again from the latest.
    expect(await ok(step('check', { source: source({ build_id: id }), version: at(25, 99) }))).toEqual([
      at(30, v30),
    ]);
    // state_code narrows a build source to one milestone.
    expect(await ok(step('check', { source: source({ build_id: id, state_code: 20 }) }))).toEqual([
      at(20, v20),
    ]);
  });

  it('with filters: builds that completed the state, oldest completion first (the downstream trigger)', async () => {
    const project = 'paging';
    const first = await newBuild({ project_id: project, platform_id: 'gcp' });
    const second = await newBuild({ project_id: project, platform_id: 'gcp' });
    const otherImage = await newBuild({ project_id: project, platform_id: 'gcp', image_type_id: 'win2022' });
    const notThere = await newBuild({ project_id: project, platform_id: 'gcp' });
    const filters = source({
      project_id: project,
      platform_id: 'gcp',
      image_type_id: 'rhel9',
      state_code: 50,
    });

    expect(await ok(step('check', { source: filters }))).toEqual([]);
    const s2 = await report(second, 50, 'completed'); // completes 50 before `first` does
    const s1 = await report(first, 50, 'completed');
    await report(otherImage, 50, 'completed');
    await report(notThere, 40, 'completed');
    await report(notThere, 60, 'completed'); // passed 50 without completing it: not a version
    const v = (build_id: string, seq: number): Version => ({ build_id, state_code: '50', seq: String(seq) });

    expect(await ok(step('check', { source: filters }))).toEqual([v(first, s1)]);
    expect(await ok(step('check', { source: filters, version: v(second, s2) }))).toEqual([
      v(second, s2),
      v(first, s1),
    ]);
  });

  it('rejects a source it cannot use, with the reason on stderr and exit 1', async () => {
    const noTarget = await step('check', { source: source({}) });
    expect(noTarget.code).toBe(1);
    expect(noTarget.stdout).toBe('');
    expect(noTarget.stderr).toContain('source needs build_id, or state_code');
    const typo = await step('check', { source: source({ build_id: 'x', platfrom_id: 'aws' }) });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/platfrom_id/);
    const badKey = await step('check', { source: { ...source({ build_id: 'x' }), api_key: 'bst_wrong' } });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('unauthorized');
  });
});

describe('the image scripts', () => {
  it('run from a folder without node_modules, as the Dockerfile installs them (build.mjs --standalone)', async () => {
    const opt = join(mkdtempSync(join(tmpdir(), 'bs-image-')), 'opt', 'resource');
    execFileSync(process.execPath, [
      join(root, 'integrations', 'concourse', 'build.mjs'),
      '--standalone',
      opt,
    ]);
    const id = await newBuild();
    const seq = await report(id, 5, 'completed');
    const answer = await runTool(join(opt, 'check'), [], {
      cwd: opt,
      input: JSON.stringify({ source: source({ build_id: id }) }),
      env: { PATH: dirname(process.execPath) },
    });
    expect(answer).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(answer.stdout)).toEqual([{ build_id: id, state_code: '5', seq: String(seq) }]);
  });
});

describe('in', () => {
  async function buildWithArtifact(content: string) {
    const id = await newBuild();
    await report(id, 25, 'in_progress');
    const registered = await stack.call('POST', `/builds/${id}/states/25/artifacts`, {
      name: 'image.qcow2',
      storage_type: 's3',
      checksum: sha256(content),
      size_bytes: content.length,
    });
    expect(registered.status).toBe(201);
    const put = await fetch(registered.body.upload.url, {
      method: 'PUT',
      headers: registered.body.upload.headers,
      body: content,
    });
    expect(put.status).toBe(200);
    expect((await stack.call('POST', `/builds/${id}/states/25/artifacts/image.qcow2/verify`)).status).toBe(
      200,
    );
    // An external pointer of the same state: listed, not downloaded.
    await stack.call('POST', `/builds/${id}/states/25/artifacts`, {
      name: 'ami-us-east-1',
      storage_type: 'other',
      uri: 'aws://us-east-1/ami-0abc',
    });
    const seq = await report(id, 25, 'completed');
    return { id, version: { build_id: id, state_code: '25', seq: String(seq) }, object: registered.body };
  }

  it('writes build.json and resume.json and downloads the verified artifacts, checksums checked', async () => {
    const { id, version } = await buildWithArtifact('qcow2 bytes of state 25');
    const dest = join(work, 'in-ok');
    const got = await ok(
      step('in', { source: source({ build_id: id }), version }, [dest], concourseEnv('901')),
    );
    expect(got.version).toEqual(version);
    expect(got.metadata).toEqual(
      expect.arrayContaining([
        { name: 'state', value: '25 Security baseline applied' },
        { name: 'status', value: 'completed' },
        { name: 'attempt', value: '1' },
        { name: 'platform', value: 'aws' },
        { name: 'downloaded', value: '1' },
      ]),
    );
    expect(JSON.parse(readFileSync(join(dest, 'build.json'), 'utf8'))).toMatchObject({
      id,
      current_state: 25,
    });
    expect(JSON.parse(readFileSync(join(dest, 'resume.json'), 'utf8'))).toMatchObject({
      build_id: id,
      action: 'continue',
      last_completed_state: 25,
    });
    expect(readFileSync(join(dest, 'artifacts', 'image.qcow2'), 'utf8')).toBe('qcow2 bytes of state 25');
    expect(existsSync(join(dest, 'artifacts', 'ami-us-east-1'))).toBe(false);
    const listed = JSON.parse(readFileSync(join(dest, 'artifacts.json'), 'utf8'));
    expect(listed.map((a: { name: string }) => a.name).sort()).toEqual(['ami-us-east-1', 'image.qcow2']);

    const light = join(work, 'in-skip');
    const skipped = await ok(
      step('in', { source: source({ build_id: id }), version, params: { skip_download: true } }, [light]),
    );
    expect(skipped.metadata).toEqual(expect.arrayContaining([{ name: 'downloaded', value: 'skipped' }]));
    expect(existsSync(join(light, 'build.json'))).toBe(true);
    expect(existsSync(join(light, 'artifacts'))).toBe(false);
  });

  it('fails the step when an artifact no longer matches its checksum, and leaves no bytes behind', async () => {
    const { id, version, object } = await buildWithArtifact('the good image');
    // The stored object is changed behind BuildState's back (bit rot, a bad copy, tampering).
    const overwrite = await fetch(`${stack.s3.endpoint}/${object.bucket}/${object.object_key}`, {
      method: 'PUT',
      body: 'the evil image',
    });
    expect(overwrite.status).toBe(200);
    const dest = join(work, 'in-corrupt');
    const failed = await step('in', { source: source({ build_id: id }), version }, [dest]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    // BuildState itself notices the overwrite (the object's ETag no longer matches the verified one)
    // and unverifies the artifact, so the step fails before any byte is fetched.
    expect(failed.stderr).toContain('image.qcow2 of state 25 is not verified');
    const history = await stack.call('GET', `/builds/${id}/history`);
    expect(history.body.items.map((h: { event: string }) => h.event)).toContain('artifact_unverified');
    expect(existsSync(join(dest, 'artifacts', 'image.qcow2'))).toBe(false);
  });
});

describe('out', () => {
  it('creates a build, reports a state with its artifacts, and a replay with the same BUILD_ID records nothing twice', async () => {
    const src = join(work, 'out-src');
    mkdirSync(join(src, 'output', 'nested'), { recursive: true });
    writeFileSync(join(src, 'output', 'base.qcow2'), 'base image');
    writeFileSync(join(src, 'output', 'nested', 'manifest.json'), '{"builds":[]}');
    writeFileSync(join(src, 'output', 'notes.txt'), 'not an artifact');
    const env = concourseEnv('1234');

    const created = await ok(
      step(
        'out',
        {
          source: source({ state_code: 50 }),
          params: { create: { platform_id: 'aws', image_type_id: 'rhel9', build_number: 7 } },
        },
        [src],
        env,
      ),
    );
    const id = created.version.build_id;
    expect(created.version).toEqual({ build_id: id, state_code: '0', seq: '1' });
    const again = await ok(
      step(
        'out',
        {
          source: source({ state_code: 50 }),
          params: { create: { platform_id: 'aws', image_type_id: 'rhel9', build_number: 7 } },
        },
        [src],
        env,
      ),
    );
    expect(again.version).toEqual(created.version); // the same build, not a second one
    writeFileSync(join(src, 'build-id'), `${id}\n`);

    const put = {
      source: source({ build_id: id }),
      params: {
        build_id_file: 'build-id',
        state_code: 10,
        status: 'completed',
        message: 'kickstart image built',
        artifacts: ['output/*.qcow2', 'output/**/manifest.json'],
      },
    };
    const first = await step('out', put, [src], env);
    expect(first.code).toBe(0);
    const done = JSON.parse(first.stdout);
    expect(done.version).toMatchObject({ build_id: id, state_code: '10' });
    expect(done.metadata).toEqual(
      expect.arrayContaining([
        { name: 'status', value: 'completed' },
        { name: 'worker', value: 'rhel9/bake-image/7' },
        { name: 'artifacts', value: 'output/base.qcow2, output/nested/manifest.json' },
      ]),
    );

    const replay = await ok(step('out', put, [src], env));
    expect(replay.version).toEqual(done.version);

    const history = await stack.call('GET', `/builds/${id}/history`);
    const reports = history.body.items.filter((i: { event: string }) => i.event === 'state_reported');
    // The artifacts needed state 10 to be started; then it completed. Once each, despite the replay.
    expect(reports.map((i: { state_code: number; status: string }) => `${i.state_code} ${i.status}`)).toEqual(
      ['10 in_progress', '10 completed'],
    );
    expect(reports[1]).toMatchObject({
      worker_id: 'rhel9/bake-image/7',
      message: 'kickstart image built',
      metadata: {
        concourse: {
          build_id: '1234',
          url: 'https://ci.example.com/teams/main/pipelines/rhel9/jobs/bake-image/builds/7',
        },
      },
    });
    expect(String(reports[1].seq)).toBe(done.version.seq);
    const artifacts = await stack.call('GET', `/builds/${id}/artifacts`);
    expect(
      artifacts.body.states[0].artifacts.map((a: { name: string; verified: boolean; checksum: string }) => [
        a.name,
        a.verified,
        a.checksum,
      ]),
    ).toEqual([
      ['base.qcow2', true, sha256('base image')],
      ['manifest.json', true, sha256('{"builds":[]}')],
    ]);

    // The job re-run as a new Concourse build: the state is already completed, which is what was asked.
    const rerun = await ok(
      step('out', { ...put, params: { ...put.params, artifacts: undefined } }, [src], concourseEnv('1300')),
    );
    expect(rerun.version).toEqual(done.version);

    // A failure with its log: the error comes from the file.
    writeFileSync(join(src, 'packer.log'), 'build step 3: ldap timeout\n');
    const failed = await ok(
      step(
        'out',
        {
          source: source({ build_id: id }),
          params: { build_id: id, state_code: 20, status: 'failed', error_file: 'packer.log' },
        },
        [src],
        env,
      ),
    );
    expect(failed.metadata).toEqual(expect.arrayContaining([{ name: 'status', value: 'failed' }]));
    const build = await stack.call('GET', `/builds/${id}`);
    expect(build.body).toMatchObject({
      current_state: 20,
      status: 'failed',
      last_error: 'build step 3: ldap timeout\n',
    });
  });

  it('logs the read pass and the transfer of a multipart artifact on stderr, as lines (no terminal)', async () => {
    const id = await newBuild();
    const src = join(work, 'out-big');
    mkdirSync(join(src, 'output'), { recursive: true });
    // Above the default part size (64 MiB): the multipart path, whose read pass comes first.
    const data = Buffer.alloc(64 * 1024 * 1024 + 4096, 3);
    writeFileSync(join(src, 'output', 'big.raw'), data);
    const r = await step(
      'out',
      {
        source: source({ build_id: id }),
        params: { build_id: id, state_code: 10, status: 'completed', artifacts: ['output/big.raw'] },
      },
      [src],
      concourseEnv('77'),
    );
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    // No redrawing on a log: whole lines, no carriage return or escape sequence.
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain(String.fromCharCode(27));
    const reading = lines.filter((l) => l.startsWith('reading output/big.raw to checksum it … '));
    expect(reading.at(-1)).toBe('reading output/big.raw to checksum it … 100%');
    const sent = lines.filter((l) => l.startsWith('output/big.raw  '));
    expect(sent.at(-1)).toMatch(/^output\/big\.raw {2}64\.0 MiB \/ 64\.0 MiB {2}100% {2}/);
    expect(lines.indexOf(reading.at(-1)!)).toBeLessThan(lines.indexOf(sent.at(-1)!));
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/big.raw`)).body).toMatchObject({
      verified: true,
      checksum: sha256(data),
    });
  }, 60_000);

  it('fails on a glob that matches nothing, before reporting anything', async () => {
    const id = await newBuild();
    const src = join(work, 'out-empty');
    mkdirSync(src, { recursive: true });
    const r = await step(
      'out',
      {
        source: source({ build_id: id }),
        params: { build_id: id, state_code: 10, status: 'completed', artifacts: ['*.qcow2'] },
      },
      [src],
      concourseEnv('55'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('artifacts: nothing under');
    expect((await stack.call('GET', `/builds/${id}`)).body.current_state).toBe(0);
  });
});

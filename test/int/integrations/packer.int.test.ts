/**
 * The Packer templates (integrations/packer) built by the real packer (Debian's 1.6.6, null
 * builder, shell-local steps) under `bldst run`'s lease, against the local stack: a first build
 * fails at the third state, a second one on another working folder skips the first two and
 * completes, and the manifest's files become artifacts.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLDST_BIN, buildCli, ROOT } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';
import { requireTool, runTool, type ToolResult } from '../../helpers/tools';

const HAVE_PACKER = requireTool('packer', 'packer');
const maybe = HAVE_PACKER ? describe : describe.skip;
const work = mkdtempSync(join(tmpdir(), 'bs-packer-'));
const shims = join(work, 'bin');
let stack: TestStack;

beforeAll(async () => {
  if (!HAVE_PACKER) return;
  buildCli();
  // The templates call `bldst` from PATH, as on a build server where it is installed.
  cpSync(join(ROOT, 'integrations', 'packer'), join(work, 'template'), { recursive: true });
  mkdirSync(shims);
  writeFileSync(join(shims, 'bldst'), `#!/bin/sh\nexec '${process.execPath}' '${BLDST_BIN}' "$@"\n`, {
    mode: 0o755,
  });
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack?.stop());

/** A worker's own copy of the template folder (no output/ from another worker). */
function workerFolder(name: string): string {
  const dir = join(work, name);
  cpSync(join(work, 'template'), dir, { recursive: true });
  return dir;
}

function packerBuild(
  dir: string,
  buildId: string,
  template: string,
  env: Record<string, string> = {},
): Promise<ToolResult> {
  return runTool(
    process.execPath,
    [BLDST_BIN, 'run', '--build', buildId, '--', 'packer', 'build', '-color=false', template],
    {
      cwd: dir,
      env: {
        PATH: `${shims}:${process.env.PATH ?? ''}`,
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, '.config'),
        CHECKPOINT_DISABLE: '1',
        BUILDSTATE_API_URL: stack.url,
        BUILDSTATE_API_TOKEN: ADMIN_KEY,
        ...env,
      },
    },
  );
}

interface HistoryItem {
  event: string;
  state_code: number;
  status: string;
  attempt: number;
  worker_id: string;
  message: string | null;
  error: string | null;
}

async function reports(id: string): Promise<HistoryItem[]> {
  const history = await stack.call('GET', `/builds/${id}/history`);
  return (history.body.items as HistoryItem[]).filter((i) => i.event === 'state_reported');
}

const brief = (items: HistoryItem[]) =>
  items.map((i) => `${i.state_code} ${i.status} #${i.attempt} ${i.worker_id}`);
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function newBuild(): Promise<string> {
  const created = await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' });
  expect(created.status).toBe(201);
  return created.body.id;
}

maybe('the Packer template (packer 1.6.6, null builder)', () => {
  it('fails at the third state, resumes on another worker skipping the first two, and registers the manifest', async () => {
    const id = await newBuild();
    const a = workerFolder('worker-a');
    const first = await packerBuild(a, id, 'image.pkr.hcl', {
      BLDST_WORKER_ID: 'packer-a',
      FAIL_AT_USERS: '1',
    });
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('users: ldap: connection timed out');
    const afterFirst = await reports(id);
    expect(brief(afterFirst)).toEqual([
      '10 in_progress #1 packer-a',
      '10 completed #1 packer-a',
      '25 in_progress #1 packer-a',
      '25 completed #1 packer-a',
      '50 in_progress #1 packer-a',
      '50 failed #1 packer-a',
    ]);
    expect(afterFirst[5].error).toContain('users: ldap: connection timed out');

    // Worker B has none of A's files: the skipped states' image comes from BuildState.
    const b = workerFolder('worker-b');
    const second = await packerBuild(b, id, 'image.pkr.hcl', { BLDST_WORKER_ID: 'packer-b' });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/state 10: skipped.*not running \.\/steps\/kickstart\.sh/);
    expect(second.stdout).toMatch(/state 25: skipped.*not running \.\/steps\/baseline\.sh/);
    const afterSecond = (await reports(id)).slice(afterFirst.length);
    expect(brief(afterSecond)).toEqual(['50 in_progress #2 packer-b', '50 completed #2 packer-b']);
    const image = readFileSync(join(b, 'output', 'image.qcow2'));
    expect(image.toString()).toBe('base image of image\nbaseline: CIS level 1\nusers: sssd joined\n');

    const build = await stack.call('GET', `/builds/${id}`);
    expect(build.body).toMatchObject({
      current_state: 50,
      state_status: 'completed',
      last_completed_state: 50,
    });
    const manifest = JSON.parse(readFileSync(join(b, 'packer-manifest.json'), 'utf8'));
    expect(manifest.builds[0].files).toEqual([{ name: 'output/image.qcow2', size: image.length }]);
    const artifacts = await stack.call('GET', `/builds/${id}/artifacts`);
    const byState = Object.fromEntries(
      artifacts.body.states.map((s: { state_code: number; artifacts: { name: string }[] }) => [
        s.state_code,
        s.artifacts,
      ]),
    );
    expect(byState[50]).toEqual([
      expect.objectContaining({
        name: 'image.qcow2',
        verified: true,
        checksum: sha256(image),
        size_bytes: image.length,
      }),
    ]);
    expect(byState[10]).toEqual([expect.objectContaining({ name: 'image.qcow2', verified: true })]);
    expect(byState[25]).toEqual([expect.objectContaining({ name: 'image.qcow2', verified: true })]);
    // Two packer runs, two leases (bldst run's); the inner steps took none of their own.
    expect((await stack.call('GET', `/builds/${id}/lease`)).body).toMatchObject({
      lease: null,
      lease_fence: 2,
    });

    // A third run on B: every state is done; nothing is reported and the registration repeats as a no-op.
    const third = await packerBuild(b, id, 'image.pkr.hcl', { BLDST_WORKER_ID: 'packer-b' });
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/state 50: skipped/);
    expect(await reports(id)).toHaveLength(afterFirst.length + afterSecond.length);
  }, 180_000);

  it("image.json's error-cleanup-provisioner closes an attempt whose step was killed before it could report", async () => {
    const id = await newBuild();
    const c = workerFolder('worker-c');
    // State 50's step dies with its `bldst run` (as under an OOM kill or a provisioner timeout).
    writeFileSync(join(c, 'steps', 'users.sh'), '#!/bin/sh\nkill -9 $PPID\nsleep 1\n', { mode: 0o755 });
    const run = await packerBuild(c, id, 'image.json', { BLDST_WORKER_ID: 'packer-c' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('report-failure: state 50 reported failed');
    const all = await reports(id);
    expect(brief(all).slice(-2)).toEqual(['50 in_progress #1 packer-c', '50 failed #1 packer-c']);
    expect(all.at(-1)).toMatchObject({
      message: 'packer build image failed',
      error: 'state 50 ended without reporting (step killed or timed out)',
    });
    const resume = await stack.call('GET', `/builds/${id}/resume`);
    expect(resume.body).toMatchObject({ action: 'retry', state_code: 50, attempt: 2 });
  }, 120_000);
});

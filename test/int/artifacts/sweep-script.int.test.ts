/**
 * `npm run sweep:artifacts` beside `npm start`, as docs/ARTIFACTS.md runs it: it finds the running
 * service through <data>/service.json, prints no SDK notice, and says in one line what to set when
 * there is no service.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const startBundle = join(root, '.build', 'test', `sweep-start-${process.pid}.mjs`);
const sweepBundle = join(root, '.build', 'test', `sweep-${process.pid}.mjs`);
const dataDir = mkdtempSync(join(tmpdir(), 'bs-sweep-'));
let service: ChildProcess | undefined;

beforeAll(() => {
  for (const [entry, out] of [
    ['local/start.ts', startBundle],
    ['scripts/sweep-artifacts.ts', sweepBundle],
  ])
    execFileSync(process.execPath, ['scripts/build-local.mjs', entry!, out!], { cwd: root });
});
afterAll(() => {
  if (service?.exitCode === null) service.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(startBundle, { force: true });
  rmSync(sweepBundle, { force: true });
});

/** The environment of a user's shell: none of the service's settings, the SDK notice not silenced. */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BUILDSTATE_') && !k.startsWith('AWS_')),
  );
  return { ...env, BUILDSTATE_DATA_DIR: dataDir };
}

const sweep = (...args: string[]) =>
  spawnSync(process.execPath, [sweepBundle, ...args], { cwd: root, env: userEnv(), encoding: 'utf8' });

it('finds the running npm start by its service.json, and says what to set once it has stopped', async () => {
  service = spawn(process.execPath, [startBundle], {
    cwd: root,
    env: { ...userEnv(), PORT: '0', BUILDSTATE_ACCESS_LOG: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  service.stdout!.on('data', (c) => {
    out += c;
  });
  service.stderr!.on('data', (c) => {
    out += c;
  });
  const deadline = Date.now() + 30_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (service.exitCode !== null || Date.now() > deadline) throw new Error(`start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const file = join(dataDir, 'service.json');
  const info = JSON.parse(readFileSync(file, 'utf8'));
  expect(info).toMatchObject({
    pid: service.pid,
    url: /running at (\S+)/.exec(out)![1],
    table_name: 'buildstate',
    artifacts_bucket: 'buildstate-artifacts',
  });
  expect(info.dynamodb_endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  const dry = sweep();
  expect(dry.stderr).toBe('');
  expect(dry.status).toBe(0);
  expect(dry.stdout).toMatch(/^0 objects scanned, 0 orphan pointer\(s\) \(dry run: add --apply to delete\)/m);

  const stopped = new Promise((r) => service!.once('exit', r));
  service.kill('SIGTERM');
  await stopped;
  expect(existsSync(file)).toBe(false);

  const none = sweep('--apply');
  expect(none.status).toBe(2);
  const lines = none.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    /^sweep:artifacts: set BUILDSTATE_TABLE_NAME and BUILDSTATE_ARTIFACTS_BUCKET .*npm start/,
  );
}, 60_000);

/**
 * `npm start` killed with SIGKILL (no exit handler runs) must not leave its DynamoDB Local engine
 * serving the data folder: the engine is started under a parent-death watchdog (setpriv), and where
 * that is missing the next start finds the engine left on the folder and stops it by its pid.
 * Every process here is started by this file, on its own data folders and ports chosen at run time.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const bundle = join(root, '.build', 'test', `start-orphan-${process.pid}.mjs`);
const scratch = mkdtempSync(join(tmpdir(), 'bs-orphan-'));
const KEY = 'bst_orphan_test_admin_key_0123456789';

/** A PATH with java (and cat) but no setpriv: a machine without the watchdog (macOS, a minimal image). */
const bareBin = join(scratch, 'bin');
const hasSetpriv = spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-local.mjs', 'local/start.ts', bundle], { cwd: root });
  mkdirSync(bareBin);
  const java = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(realpathSync(java), join(bareBin, 'java'));
  symlinkSync('/bin/cat', join(bareBin, 'cat'));
});

const children = new Set<ChildProcess>();
const engines = new Set<number>();
afterAll(() => {
  // A failed assertion must not leave a server or an engine this file started running.
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of engines) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
  rmSync(bundle, { force: true });
});

/** A live process, not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Every live DynamoDB Local whose command line serves `dbPath`, read from /proc independently of local/. */
function enginesOn(dbPath: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return (
          args.some((a) => a.endsWith('DynamoDBLocal.jar')) &&
          args[args.indexOf('-dbPath') + 1] === dbPath &&
          alive(pid)
        );
      } catch {
        return false;
      }
    })
    .sort();
}

interface Running {
  child: ChildProcess;
  output: () => string;
  url: string;
  javaPid: number;
}

async function start(folder: string, env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [bundle], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      BUILDSTATE_DATA_DIR: folder,
      BUILDSTATE_ACCESS_LOG: '0',
      BUILDSTATE_SAMPLE_DATA: '0',
      BUILDSTATE_STUCK_INTERVAL_S: '3600',
      BUILDSTATE_BOOTSTRAP_ADMIN_KEY: KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (c) => {
    out += c;
  });
  child.stderr!.on('data', (c) => {
    out += c;
  });
  const deadline = Date.now() + 60_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const javaPid = Number(/\(pid (\d+),/.exec(out)![1]);
  engines.add(javaPid);
  return { child, output: () => out, url: /running at (\S+)/.exec(out)![1]!, javaPid };
}

function kill(running: Running, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    running.child.once('exit', () => done());
    running.child.kill(signal);
  });
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still not true after 20 s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const post = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'x-api-key': KEY }, body: JSON.stringify(body) });

it('stops, by its pid, the engine a SIGKILLed start left on the folder (no watchdog), then serves the same data with one engine', async () => {
  const folder = join(scratch, 'bare');
  const dbPath = join(folder, 'dynamodb');
  const env = { PATH: bareBin };
  const first = await start(folder, env);
  expect(
    (await post(first.url, '/platforms', { id: 'o-aws', name: 'AWS', cloud_provider: 'aws' })).status,
  ).toBe(201);
  expect((await post(first.url, '/image-types', { id: 'o-rhel9', name: 'RHEL 9' })).status).toBe(201);
  expect(
    (await post(first.url, '/builds', { id: 'kept', platform_id: 'o-aws', image_type_id: 'o-rhel9' })).status,
  ).toBe(201);
  expect(JSON.parse(readFileSync(join(folder, 'service.json'), 'utf8')).dynamodb_pid).toBe(first.javaPid);

  await kill(first, 'SIGKILL');
  // What the tester saw: the engine outlives its parent, and service.json is left stale.
  expect(alive(first.javaPid)).toBe(true);
  expect(enginesOn(dbPath)).toEqual([first.javaPid]);
  expect(existsSync(join(folder, 'service.json'))).toBe(true);

  const second = await start(folder, env);
  expect(second.output()).toContain(
    `buildstate: stopping DynamoDB Local pid ${first.javaPid}, left running on ${dbPath} by a start that was killed (pid ${first.child.pid})\n`,
  );
  expect(alive(first.javaPid)).toBe(false);
  expect(enginesOn(dbPath)).toEqual([second.javaPid]);
  const kept = await fetch(`${second.url}/builds/kept`, { headers: { 'x-api-key': KEY } });
  expect(kept.status).toBe(200);
  expect(JSON.parse(readFileSync(join(folder, 'service.json'), 'utf8')).dynamodb_pid).toBe(second.javaPid);

  await kill(second, 'SIGTERM');
  expect(enginesOn(dbPath)).toEqual([]);
  expect(existsSync(join(dbPath, 'engine.json'))).toBe(false);
}, 120_000);

(hasSetpriv ? it : it.skip)(
  'takes its engine with it when SIGKILLed (parent-death watchdog), so the next start finds none',
  async () => {
    const folder = join(scratch, 'watchdog');
    const dbPath = join(folder, 'dynamodb');
    const first = await start(folder);
    expect(enginesOn(dbPath)).toEqual([first.javaPid]);
    await kill(first, 'SIGKILL');
    await until(`engine ${first.javaPid} gone after its parent was SIGKILLed`, () => !alive(first.javaPid));

    const second = await start(folder);
    expect(second.output()).not.toMatch(/stopping DynamoDB Local/);
    expect(enginesOn(dbPath)).toEqual([second.javaPid]);
    await kill(second, 'SIGTERM');
    expect(enginesOn(dbPath)).toEqual([]);
  },
  120_000,
);

it('never touches a live process its engine record names when that is not DynamoDB Local on this folder', async () => {
  const folder = join(scratch, 'reused');
  const dbPath = join(folder, 'dynamodb');
  mkdirSync(dbPath, { recursive: true });
  // A pid reused by an unrelated process since the record was written.
  const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
  children.add(bystander);
  writeFileSync(
    join(dbPath, 'engine.json'),
    JSON.stringify({ pid: bystander.pid, parent_pid: 999_999, started_at: new Date().toISOString() }),
  );
  const running = await start(folder);
  expect(running.output()).not.toMatch(/stopping DynamoDB Local/);
  expect(alive(bystander.pid!)).toBe(true);
  expect(JSON.parse(readFileSync(join(dbPath, 'engine.json'), 'utf8')).pid).toBe(running.javaPid);
  await kill(running, 'SIGTERM');
  expect(alive(bystander.pid!)).toBe(true);
  bystander.kill('SIGKILL');
}, 120_000);

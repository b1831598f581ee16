/** `npm start` as a user runs it: the bundled entry point in its own process. */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BLDST_BIN, buildCli } from '../../helpers/cli';

const root = resolve(__dirname, '../../..');
// Inside the project, so the bundle resolves packages from node_modules as `npm start` does.
const bundle = join(root, '.build', 'test', `start-${process.pid}.mjs`);
const dataDir = mkdtempSync(join(tmpdir(), 'bs-data-'));

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-local.mjs', 'local/start.ts', bundle], { cwd: root });
});
const started = new Set<ChildProcess>();
afterAll(() => {
  // A failed assertion must not leave a server (and its DynamoDB Local) running.
  for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(bundle, { force: true });
});

interface Running {
  child: ChildProcess;
  output: () => string;
  url: string;
  javaPid: number;
}

async function start(env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [bundle], {
    cwd: root,
    env: {
      ...process.env,
      BUILDSTATE_SAMPLE_DATA: '',
      PORT: '0',
      BUILDSTATE_DATA_DIR: dataDir,
      BUILDSTATE_ACCESS_LOG: '0',
      BUILDSTATE_STUCK_INTERVAL_S: '3600',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  child.stdout!.on('data', (c) => {
    out += c;
  });
  child.stderr!.on('data', (c) => {
    out += c;
  });
  const deadline = Date.now() + 30_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => out,
    url: /running at (\S+)/.exec(out)![1]!,
    javaPid: Number(/\(pid (\d+),/.exec(out)![1]),
  };
}

function stop(running: Running): Promise<number | null> {
  return new Promise((resolve) => {
    running.child.once('exit', (code) => resolve(code));
    running.child.kill('SIGTERM');
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const ids = async (url: string, path: string, key: string) =>
  (
    (await (await fetch(`${url}${path}`, { headers: { 'x-api-key': key } })).json()) as {
      items: { id: string }[];
    }
  ).items
    .map((i) => i.id)
    .sort();

it('persists data across restarts, shows a generated admin key once, and stops DynamoDB Local on SIGTERM', async () => {
  const first = await start();
  const key = /admin API key:\s+(bst_\S+)/.exec(first.output())?.[1];
  expect(key).toBeDefined();
  // A fresh data folder has the sample reference data the seeds' examples use.
  expect(first.output()).toMatch(/sample data: +18 /);
  expect(await ids(first.url, '/platforms', key!)).toEqual(
    [
      'aws',
      'aws-china',
      'aws-commercial',
      'aws-govcloud',
      'azure',
      'azure-commercial',
      'azure-government',
      'gcp',
      'openstack',
      'oracle',
    ].sort(),
  );
  expect(await ids(first.url, '/image-types', key!)).toEqual([
    'base',
    'rhel8',
    'rhel8-webserver',
    'web-server',
  ]);
  expect(await ids(first.url, '/os-versions', key!)).toEqual(['rhel-8.7', 'rhel-9.3', 'ubuntu-22.04']);
  expect(await ids(first.url, '/projects', key!)).toEqual(['default', 'rhel-9']);
  for (const [path, body] of [
    ['/platforms', { id: 'onprem', name: 'On premises', cloud_provider: 'vsphere' }],
    ['/image-types', { id: 'rhel9', name: 'RHEL 9' }],
  ] as const) {
    const res = await fetch(`${first.url}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': key!, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
  }
  const created = await fetch(`${first.url}/builds`, {
    method: 'POST',
    headers: { 'x-api-key': key! },
    body: JSON.stringify({ id: 'survivor', platform_id: 'onprem', image_type_id: 'rhel9' }),
  });
  expect(created.status).toBe(201);
  // A deleted sample item stays deleted: sample data is made only when the table is.
  const deleted = await fetch(`${first.url}/platforms/oracle`, {
    method: 'DELETE',
    headers: { 'x-api-key': key! },
  });
  expect(deleted.status).toBe(200);
  expect(alive(first.javaPid)).toBe(true);
  expect(await stop(first)).toBe(0);
  expect(alive(first.javaPid)).toBe(false);

  const second = await start();
  expect(second.output()).not.toMatch(/bst_|sample data/);
  expect(await ids(second.url, '/platforms', key!)).not.toContain('oracle');
  const again = await fetch(`${second.url}/builds/survivor`, { headers: { 'x-api-key': key! } });
  expect(again.status).toBe(200);
  expect(((await again.json()) as { id: string }).id).toBe('survivor');
  await stop(second);
  expect(alive(second.javaPid)).toBe(false);
}, 60_000);

it('creates no sample data with BUILDSTATE_SAMPLE_DATA=0', async () => {
  const plain = await start({
    BUILDSTATE_SAMPLE_DATA: '0',
    BUILDSTATE_DATA_DIR: join(dataDir, 'plain'),
    BUILDSTATE_BOOTSTRAP_ADMIN_KEY: 'plain-admin-key',
  });
  expect(plain.output()).not.toMatch(/sample data/);
  expect(await ids(plain.url, '/platforms', 'plain-admin-key')).toEqual([]);
  expect(await ids(plain.url, '/projects', 'plain-admin-key')).toEqual(['default']);
  await stop(plain);
}, 60_000);

it('says in one line what to install when java is missing, and exits non-zero', () => {
  const result = spawnSync(process.execPath, [bundle], {
    cwd: root,
    env: { ...process.env, PATH: '/nonexistent', PORT: '0', BUILDSTATE_DATA_DIR: join(dataDir, 'nojava') },
    encoding: 'utf8',
  });
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/Java 17 or newer is required.*install/);
});

it('prints the export line that points bldst at it and where service.json is; a stopped one is named when refused', async () => {
  buildCli();
  const folder = mkdtempSync(join(tmpdir(), 'bs-data-'));
  const running = await start({ BUILDSTATE_DATA_DIR: folder });
  const key = /admin API key:\s+(bst_\S+)/.exec(running.output())?.[1];
  const line = `export BUILDSTATE_API_URL=${running.url} BUILDSTATE_API_TOKEN=${key}`;
  expect(running.output()).toContain(`Point bldst at it (in the shell you run bldst from):\n  ${line}\n`);
  expect(running.output()).toContain(`service file:   ${join(folder, 'service.json')}`);
  expect(JSON.parse(readFileSync(join(folder, 'service.json'), 'utf8')).url).toBe(running.url);
  // The line as printed, pasted into a shell, is all bldst needs.
  const shell = (script: string) =>
    spawnSync('sh', ['-c', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', XDG_CONFIG_HOME: join(folder, 'config') },
    });
  const listed = shell(`${line}; "${process.execPath}" "${BLDST_BIN}" project list -q`);
  expect([listed.status, listed.stdout]).toEqual([0, 'default\nrhel-9\n']);
  expect(await stop(running)).toBe(0);
  const refused = shell(`${line}; "${process.execPath}" "${BLDST_BIN}" project list -q`);
  expect(refused.status).toBe(6);
  expect(refused.stderr).toMatch(/^bldst: cannot reach .*ECONNREFUSED.*Is the service running\?/);
  expect(refused.stderr).toContain('export BUILDSTATE_API_URL=… BUILDSTATE_API_TOKEN=…');
  expect(refused.stderr).toContain('service.json');
  rmSync(folder, { recursive: true, force: true });
}, 90_000);

/** A second `npm start` on the same folder, run to completion: its exit status and output. */
function startToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bundle], {
      cwd: root,
      env: { ...process.env, PORT: '0', BUILDSTATE_ACCESS_LOG: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.add(child);
    let output = '';
    child.stdout!.on('data', (c) => {
      output += c;
    });
    child.stderr!.on('data', (c) => {
      output += c;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

it('tells a live BuildState of this folder from an unrelated process named by a stale pid file', async () => {
  const folder = join(dataDir, 'lock');
  mkdirSync(folder, { recursive: true });
  // PID reuse after a reboot: the pid file names a live process that is not BuildState (this one).
  writeFileSync(join(folder, 'buildstate.pid'), String(process.pid));
  const first = await start({ BUILDSTATE_DATA_DIR: folder });
  expect(readFileSync(join(folder, 'buildstate.pid'), 'utf8')).toBe(String(first.child.pid));

  const second = await startToExit({ BUILDSTATE_DATA_DIR: folder });
  expect(second.code).toBe(1);
  expect(second.output).toMatch(
    new RegExp(`Another BuildState \\(pid ${first.child.pid}\\) is running on ${folder}`),
  );
  // The refused start changed nothing: the first still serves.
  expect((await fetch(`${first.url}/health`)).status).toBe(200);

  // SIGKILL leaves the pid file behind; the lock dies with the process (its engine too:
  // start-orphan.int.test.ts).
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  expect(existsSync(join(folder, 'buildstate.pid'))).toBe(true);
  const third = await start({ BUILDSTATE_DATA_DIR: folder });
  expect((await fetch(`${third.url}/health`)).status).toBe(200);
  await stop(third);
}, 90_000);

it('recovers from a truncated events checkpoint: names the file, loses no event and repeats none', async () => {
  const folder = join(dataDir, 'checkpoint');
  const key = 'bst_checkpoint_test_key_0123456789';
  const env = { BUILDSTATE_DATA_DIR: folder, BUILDSTATE_BOOTSTRAP_ADMIN_KEY: key };
  const call = (url: string, path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'x-api-key': key }, body: JSON.stringify(body) });
  const log = join(folder, 'events.jsonl');
  const checkpoint = join(folder, 'events.checkpoint.json');
  const dedupKeys = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).detail.dedup_key as string)
      : [];
  const waitFor = async (keys: string[]) => {
    const deadline = Date.now() + 20_000;
    while (!keys.every((k) => dedupKeys().includes(k))) {
      if (Date.now() > deadline) throw new Error(`events missing: ${keys} in ${dedupKeys()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const first = await start(env);
  expect(
    (await call(first.url, '/platforms', { id: 'cp-aws', name: 'AWS', cloud_provider: 'aws' })).status,
  ).toBe(201);
  expect((await call(first.url, '/image-types', { id: 'cp-rhel9', name: 'RHEL 9' })).status).toBe(201);
  expect(
    (await call(first.url, '/builds', { id: 'cp', platform_id: 'cp-aws', image_type_id: 'cp-rhel9' })).status,
  ).toBe(201);
  expect((await call(first.url, '/builds/cp/states', { state_code: 5, status: 'completed' })).status).toBe(
    201,
  );
  await waitFor(['cp:1', 'cp:2']);
  await stop(first);
  const whole = readFileSync(checkpoint, 'utf8');
  writeFileSync(checkpoint, whole.slice(0, 4));

  const second = await start(env);
  expect(second.output()).toMatch(
    new RegExp(`checkpoint ${checkpoint} is unreadable \\(.*\\); reading the stream from its start`),
  );
  expect((await call(second.url, '/builds/cp/states', { state_code: 10, status: 'completed' })).status).toBe(
    201,
  );
  await waitFor(['cp:3']);
  const keys = dedupKeys();
  expect(keys.filter((k) => k.startsWith('cp:'))).toEqual(['cp:1', 'cp:2', 'cp:3']);
  expect(new Set(keys).size).toBe(keys.length);
  expect(() => JSON.parse(readFileSync(checkpoint, 'utf8'))).not.toThrow();
  await stop(second);
}, 90_000);

it('prints a paste line that works in another shell for a key the user chose, on a terminal only; bldst says what to set when it has no key', async () => {
  buildCli();
  const folder = mkdtempSync(join(tmpdir(), 'bs-data-'));
  const shell = (script: string) =>
    spawnSync('sh', ['-c', script], {
      encoding: 'utf8',
      // The user's other shell: BUILDSTATE_BOOTSTRAP_ADMIN_KEY is not set there.
      env: { PATH: process.env.PATH ?? '', XDG_CONFIG_HOME: join(folder, 'config') },
    });
  const bldst = `"${process.execPath}" "${BLDST_BIN}"`;

  // Output to a pipe (a log, a supervisor): the chosen key is not written out.
  const logged = await start({
    BUILDSTATE_DATA_DIR: folder,
    BUILDSTATE_BOOTSTRAP_ADMIN_KEY: 'dev-key-12345',
  });
  expect(logged.output()).not.toContain('dev-key-12345');
  expect(logged.output()).toContain(
    `export BUILDSTATE_API_URL=${logged.url} BUILDSTATE_API_TOKEN='<the value of BUILDSTATE_BOOTSTRAP_ADMIN_KEY>'\n`,
  );
  // No key at all: the refusal names what to set.
  const keyless = shell(`export BUILDSTATE_API_URL=${logged.url}; ${bldst} build list`);
  expect(keyless.status).toBe(5);
  expect(keyless.stderr).toContain(
    'bldst has no key to send: set BUILDSTATE_API_TOKEN (an API key or token) or run bldst auth set-key <key>',
  );
  expect(await stop(logged)).toBe(0);

  if (spawnSync('script', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.warn('skipped the terminal half: `script` (util-linux) is not installed');
    rmSync(folder, { recursive: true, force: true });
    return;
  }
  // On a terminal (script gives it one), as a user runs `KEY=… npm start`: a key that needs quoting.
  const chosen = "dev key's-12345";
  const tty = spawn('script', ['-qec', `"${process.execPath}" "${bundle}"`, '/dev/null'], {
    cwd: root,
    env: {
      ...process.env,
      BUILDSTATE_SAMPLE_DATA: '0',
      PORT: '0',
      BUILDSTATE_DATA_DIR: folder,
      BUILDSTATE_ACCESS_LOG: '0',
      BUILDSTATE_STUCK_INTERVAL_S: '3600',
      BUILDSTATE_BOOTSTRAP_ADMIN_KEY: chosen,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.add(tty);
  let out = '';
  tty.stdout!.on('data', (c) => {
    out += String(c).replaceAll('\r', '');
  });
  const deadline = Date.now() + 60_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (tty.exitCode !== null || Date.now() > deadline)
      throw new Error(`start on a terminal failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const paste = /Point bldst at it.*\n {2}(export .*)\n/.exec(out)![1]!;
  expect(paste).toMatch(/BUILDSTATE_API_TOKEN='dev key'\\''s-12345'$/);
  const listed = shell(`${paste}; ${bldst} build list -q; echo "exit $?"`);
  expect(listed.stdout).toBe('exit 0\n');
  expect(listed.stderr).toBe('');
  // Stopped as Ctrl-C would: the server behind the terminal, named by its service file.
  const server = JSON.parse(readFileSync(join(folder, 'service.json'), 'utf8')).pid as number;
  await new Promise((r) => {
    tty.once('exit', r);
    process.kill(server, 'SIGINT');
  });
  expect(alive(server)).toBe(false);
  rmSync(folder, { recursive: true, force: true });
}, 120_000);

/** `npm start` as a user runs it: the bundled entry point in its own process. */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
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

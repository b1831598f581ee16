/**
 * Downloads that would have lied (issue 26, item 4, as an outside tester found them): two downloads
 * to one destination, Ctrl-C, a lock left by a dead process, `-O` naming a folder or a folder that
 * does not exist; and what a pipe reads. The final name only ever holds bytes this process wrote
 * and checked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes } from '../../../cli/progress';
import { BLDST_BIN, buildCli, cliRunner } from '../../helpers/cli';
import { type ForwardProxy, startForwardProxy } from '../../helpers/forward-proxy';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
let stack: TestStack;
let proxy: ForwardProxy;
let slow: ForwardProxy;
const cli = cliRunner(() => stack.url);
const work = mkdtempSync(join(tmpdir(), 'bs-downguard-'));
const rangeEnv = { BLDST_DOWNLOAD_RANGE_BYTES: String(MiB) };
let id: string;
let big: Buffer;
let small: Buffer;

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
  proxy = await startForwardProxy();
  // 2 MiB/s per connection: with --parallel 2 the 16 MiB artifact takes ~4 s, time to act on it.
  slow = await startForwardProxy({ bytesPerSecond: 2 * MiB });
  id = (
    await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  expect(id).toMatch(/^[0-9A-Z]{26}$/);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 25, status: 'in_progress' })).status,
  ).toBe(201);
  big = randomBytes(SIZE);
  small = randomBytes(MiB);
  for (const [name, bytes] of [
    ['big.bin', big],
    ['other.bin', small],
  ] as const) {
    const file = join(work, name);
    writeFileSync(file, bytes);
    const up = await cli.run(['artifact', 'upload', id, file, '--state', '25', '--name', name, '-q']);
    expect(up).toMatchObject({ code: 0, stderr: '' });
  }
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await slow?.stop();
  await stack?.stop();
});

/** A slow `bldst artifact download` of big.bin into `dir`/`to`, as a child of its own. */
function slowDownload(
  dir: string,
  to: string,
): { child: ChildProcess; exited: Promise<[number | null, string | null]>; stderr: () => string } {
  const child = spawn(
    process.execPath,
    [
      BLDST_BIN,
      'artifact',
      'download',
      id,
      '--state',
      '25',
      '--name',
      'big.bin',
      '-O',
      to,
      '--parallel',
      '2',
    ],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        XDG_CONFIG_HOME: join(cli.home, 'config'),
        BUILDSTATE_API_URL: stack.url,
        BUILDSTATE_API_TOKEN: ADMIN_KEY,
        HTTP_PROXY: slow.url,
        NO_PROXY: new URL(stack.url).host,
        ...rangeEnv,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (c) => {
    err += c;
  });
  const exited = new Promise<[number | null, string | null]>((r) =>
    child.on('exit', (code, sig) => r([code, sig])),
  );
  return { child, exited, stderr: () => err };
}

/** Until the child's sidecar records `n` ranges (it is then mid-transfer, lock held). */
async function rangesRecorded(sidecar: string, n: number) {
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(sidecar, 'utf8')) as { done: number[] }).done.length >= n) return;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('a second download to the same destination refuses at once (exit 3, naming the pid); the first finishes with checked bytes', async () => {
  const dir = mkdtempSync(join(work, 'two-'));
  const first = slowDownload(dir, 'y.out');
  await rangesRecorded(join(dir, '.y.out.bldst-partial.json'), 1);
  expect(existsSync(join(dir, '.y.out.bldst-partial.lock'))).toBe(true);

  for (const name of ['other.bin', 'big.bin']) {
    const second = await cli.run(
      ['artifact', 'download', id, '--state', '25', '--name', name, '-O', 'y.out'],
      { cwd: dir, env: rangeEnv },
    );
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`being downloaded by another bldst (pid ${first.child.pid}`);
    expect(second.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(dir, 'y.out'))).toBe(false);
  }

  expect(await first.exited).toEqual([0, null]);
  expect(first.stderr()).toContain('(matches)');
  expect(readFileSync(join(dir, 'y.out')).equals(big)).toBe(true);
  // Nothing left beside it: no partial, sidecar or lock.
  expect(readdirSync(dir)).toEqual(['y.out']);
});

it('Ctrl-C says once which ranges are kept, exits 130, releases the lock; the next run continues to checked bytes', async () => {
  const dir = mkdtempSync(join(work, 'int-'));
  const first = slowDownload(dir, 'c.out');
  await rangesRecorded(join(dir, '.c.out.bldst-partial.json'), 2);
  first.child.kill('SIGINT');
  expect(await first.exited).toEqual([130, null]);
  // What it says is what the sidecar records: the ranges a re-run keeps.
  const kept = (
    JSON.parse(readFileSync(join(dir, '.c.out.bldst-partial.json'), 'utf8')) as { done: number[] }
  ).done.length;
  expect(kept).toBeGreaterThanOrEqual(2);
  const said = first
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('bldst: interrupted'));
  expect(said).toEqual([
    `bldst: interrupted: ${kept} of ${SIZE / MiB} ranges (${formatBytes(kept * MiB)} of ${formatBytes(SIZE)}) are kept in .c.out.bldst-partial; run the same command again to continue`,
  ]);
  expect(existsSync(join(dir, '.c.out.bldst-partial.lock'))).toBe(false);
  expect(existsSync(join(dir, 'c.out'))).toBe(false);
  expect(existsSync(join(dir, '.c.out.bldst-partial'))).toBe(true);

  proxy.reset();
  const again = await cli.run(
    ['artifact', 'download', id, '--state', '25', '--name', 'big.bin', '-O', 'c.out'],
    {
      cwd: dir,
      env: { HTTP_PROXY: proxy.url, ...rangeEnv },
    },
  );
  expect(again).toMatchObject({ code: 0 });
  expect(readFileSync(join(dir, 'c.out')).equals(big)).toBe(true);
  const gets = proxy.requests.filter((r) => r.method === 'GET' && r.range);
  expect(gets.length).toBeLessThan(SIZE / MiB); // the kept ranges were not fetched again
});

it('a lock left by a process that is gone is taken over', async () => {
  const dir = mkdtempSync(join(work, 'stale-'));
  const dead = spawn(process.execPath, ['-e', '']);
  const deadPid = dead.pid!;
  await new Promise((r) => dead.on('exit', r));
  writeFileSync(join(dir, '.s.out.bldst-partial.lock'), JSON.stringify({ pid: deadPid, host: hostname() }));
  const res = await cli.run(
    ['artifact', 'download', id, '--state', '25', '--name', 'other.bin', '-O', 's.out'],
    {
      cwd: dir,
    },
  );
  expect(res).toMatchObject({ code: 0 });
  expect(readFileSync(join(dir, 's.out')).equals(small)).toBe(true);
  expect(readdirSync(dir)).toEqual(['s.out']);
});

it('-O with an existing folder writes <folder>/<artifact name>', async () => {
  const dir = mkdtempSync(join(work, 'dir-'));
  mkdirSync(join(dir, 'images'));
  for (const to of ['images', 'images/']) {
    const res = await cli.run(
      ['artifact', 'download', id, '--state', '25', '--name', 'other.bin', '-O', to],
      {
        cwd: dir,
      },
    );
    expect(res).toMatchObject({ code: 0 });
    expect(res.stderr).toContain(join('images', 'other.bin'));
    expect(readFileSync(join(dir, 'images', 'other.bin')).equals(small)).toBe(true);
    expect(readdirSync(join(dir, 'images'))).toEqual(['other.bin']);
  }
});

it('-O into a folder that does not exist is exit 2 before any request', async () => {
  const dir = mkdtempSync(join(work, 'missing-'));
  proxy.reset();
  const res = await cli.run(
    ['artifact', 'download', id, '--state', '25', '--name', 'other.bin', '-O', 'nonexistent/dir/x.bin'],
    { cwd: dir, env: { HTTP_PROXY: proxy.url } },
  );
  expect(res.code).toBe(2);
  expect(res.stderr).toContain(
    'cannot write nonexistent/dir/x.bin: the folder nonexistent/dir does not exist',
  );
  expect(res.stderr).not.toMatch(/ENOENT|\n\s+at /);
  expect(proxy.requests).toHaveLength(0);
  expect(readdirSync(dir)).toEqual([]);
});

it('a pipe or -o json gets what was written as JSON on stdout; -q and a table print nothing there', async () => {
  const dir = mkdtempSync(join(work, 'json-'));
  const want = {
    path: 'j.out',
    name: 'other.bin',
    state_code: 25,
    size_bytes: MiB,
    checksum: `sha256:${createHash('sha256').update(small).digest('hex')}`,
    matched: true,
  };
  const args = ['artifact', 'download', id, '--state', '25', '--name', 'other.bin', '-O', 'j.out'];
  const piped = await cli.run(args, { cwd: dir });
  expect(piped.code).toBe(0);
  expect(JSON.parse(piped.stdout)).toEqual(want);
  const asked = await cli.run([...args, '-o', 'json'], { cwd: dir });
  expect(JSON.parse(asked.stdout)).toEqual(want);
  expect(await cli.run([...args, '-q'], { cwd: dir })).toMatchObject({ code: 0, stdout: '', stderr: '' });
  expect(await cli.run([...args, '-o', 'table'], { cwd: dir })).toMatchObject({ code: 0, stdout: '' });
  expect(readFileSync(join(dir, 'j.out')).equals(small)).toBe(true);
});

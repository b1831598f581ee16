/**
 * Downloads (issue 26, items 4-6): parallel ranged GETs into `.<name>.bldst-partial`, renamed only
 * when the SHA-256 matches; a re-run after SIGKILL fetches only the ranges not recorded; a corrupted
 * object is refused with nothing under the final name; every request (API, presigned upload,
 * download) goes through HTTP_PROXY unless NO_PROXY names its host; progress on a terminal, on a
 * pipe only with --progress, never with -q. Bytes are counted at a forward proxy on loopback.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BLDST_BIN, buildCli, cliRunner } from '../../helpers/cli';
import { type ForwardProxy, startForwardProxy } from '../../helpers/forward-proxy';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
const RANGES = SIZE / MiB;
let stack: TestStack;
let proxy: ForwardProxy;
let slow: ForwardProxy;
const cli = cliRunner(() => stack.url);
const work = mkdtempSync(join(tmpdir(), 'bs-down-'));
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const hostOf = (url: string) => new URL(url).host;

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
  proxy = await startForwardProxy();
  // 2 MiB/s per connection: with --parallel 2 a 16 MiB download takes ~4 s, time to kill it.
  slow = await startForwardProxy({ bytesPerSecond: 2 * MiB });
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await slow?.stop();
  await stack?.stop();
});

/** A build with `name` (16 MiB of random bytes) uploaded to state 10 by `bldst artifact upload`. */
async function builtImage(name: string, env: Record<string, string> = {}) {
  const id = (
    await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  expect(id).toMatch(/^[0-9A-Z]{26}$/);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'in_progress' })).status,
  ).toBe(201);
  const bytes = randomBytes(SIZE);
  const file = join(work, `${id}-${name}`);
  writeFileSync(file, bytes);
  const up = await cli.run(['artifact', 'upload', id, file, '--state', '10', '--name', name, '-q'], { env });
  expect(up).toMatchObject({ code: 0, stderr: '' });
  return { id, bytes };
}

const rangeEnv = { BLDST_DOWNLOAD_RANGE_BYTES: String(MiB) };
/** Two uploaded images the tests below share (each test downloads into a folder of its own). */
let shared: { id: string; bytes: Buffer };
let other: { id: string; bytes: Buffer };
beforeAll(async () => {
  shared = await builtImage('shared.raw');
  other = await builtImage('other.raw');
}, 60_000);

const s3GetsOf = (p: ForwardProxy) =>
  p.to(hostOf(process.env.BUILDSTATE_S3_ENDPOINT ?? '')).filter((r) => r.method === 'GET');

it('downloads in parallel ranges through HTTP_PROXY: API, presigned upload and every range seen at the proxy', async () => {
  proxy.reset();
  const env = { HTTP_PROXY: proxy.url };
  const { id, bytes } = await builtImage('img.raw', env);
  const api = hostOf(stack.url);
  const s3 = hostOf(process.env.BUILDSTATE_S3_ENDPOINT!);
  expect(proxy.to(api).length).toBeGreaterThanOrEqual(2); // register, verify
  const puts = proxy.to(s3).filter((r) => r.method === 'PUT');
  expect(puts).toHaveLength(1);
  expect(puts[0]!.bytesUp).toBe(SIZE);

  proxy.reset();
  const res = await cli.run(
    ['artifact', 'download', id, '--state', '10', '--name', 'img.raw', '-O', 'out.raw', '--parallel', '4'],
    { env: { ...env, ...rangeEnv } },
  );
  expect(res).toMatchObject({ code: 0 });
  expect(readFileSync(join(cli.home, 'out.raw')).equals(bytes)).toBe(true);
  expect(existsSync(join(cli.home, '.out.raw.bldst-partial'))).toBe(false);
  expect(existsSync(join(cli.home, '.out.raw.bldst-partial.json'))).toBe(false);
  const gets = s3GetsOf(proxy);
  expect(gets).toHaveLength(RANGES);
  expect(new Set(gets.map((g) => g.range)).size).toBe(RANGES);
  expect(gets.reduce((n, g) => n + g.bytesDown, 0)).toBe(SIZE);
  expect(proxy.to(api).length).toBeGreaterThanOrEqual(1);

  // Lower case too, and NO_PROXY with a port sends the API direct while S3 still goes through.
  proxy.reset();
  const lower = await cli.run(
    ['artifact', 'download', id, '--state', '10', '--name', 'img.raw', '-O', 'lower.raw'],
    { env: { http_proxy: proxy.url, no_proxy: api, ...rangeEnv } },
  );
  expect(lower).toMatchObject({ code: 0 });
  expect(proxy.to(api)).toHaveLength(0);
  expect(s3GetsOf(proxy)).toHaveLength(RANGES);

  proxy.reset();
  const direct = await cli.run(
    ['artifact', 'download', id, '--state', '10', '--name', 'img.raw', '-O', 'direct.raw'],
    { env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1', ...rangeEnv } },
  );
  expect(direct).toMatchObject({ code: 0 });
  expect(proxy.requests).toHaveLength(0);
  expect(readFileSync(join(cli.home, 'direct.raw')).equals(bytes)).toBe(true);
});

it('a download killed with SIGKILL leaves no final file; the re-run fetches only the ranges not recorded', async () => {
  const { id, bytes } = shared;
  const dir = mkdtempSync(join(work, 'kill-'));
  const sidecar = join(dir, '.kill.raw.bldst-partial.json');
  const recorded = () => {
    try {
      return (JSON.parse(readFileSync(sidecar, 'utf8')) as { done: number[] }).done;
    } catch {
      return [];
    }
  };
  const child = spawn(
    process.execPath,
    [
      BLDST_BIN,
      'artifact',
      'download',
      id,
      '--state',
      '10',
      '--name',
      'shared.raw',
      '-O',
      'kill.raw',
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
        NO_PROXY: hostOf(stack.url),
        ...rangeEnv,
      },
      stdio: 'ignore',
    },
  );
  const exited = new Promise((r) => child.on('exit', r));
  while (recorded().length < 6) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await exited;
  expect(existsSync(join(dir, 'kill.raw'))).toBe(false);
  expect(existsSync(join(dir, '.kill.raw.bldst-partial'))).toBe(true);
  const kept = recorded();
  expect(kept.length).toBeGreaterThanOrEqual(6);
  expect(kept.length).toBeLessThan(RANGES);

  proxy.reset();
  const again = await cli.run(
    ['artifact', 'download', id, '--state', '10', '--name', 'shared.raw', '-O', 'kill.raw'],
    {
      cwd: dir,
      env: { HTTP_PROXY: proxy.url, ...rangeEnv },
    },
  );
  expect(again).toMatchObject({ code: 0 });
  expect(readFileSync(join(dir, 'kill.raw')).equals(bytes)).toBe(true);
  const gets = s3GetsOf(proxy);
  // Exactly the ranges the sidecar did not hold: what was missing plus what was in flight.
  expect(gets).toHaveLength(RANGES - kept.length);
  expect(gets.reduce((n, g) => n + g.bytesDown, 0)).toBe(SIZE - kept.length * MiB);
  const fetched = new Set(gets.map((g) => Number(/bytes=(\d+)-/.exec(g.range ?? '')?.[1]) / MiB));
  for (const i of kept) expect(fetched.has(i)).toBe(false);
});

it('partial bytes of another artifact under the same name are thrown away, not trusted', async () => {
  const dir = mkdtempSync(join(work, 'swap-'));
  // A complete-looking partial download of another artifact (its sidecar says every range is
  // there) under the destination's name: none of it may be kept.
  const partial = join(dir, '.swap.raw.bldst-partial');
  writeFileSync(partial, other.bytes);
  writeFileSync(
    `${partial}.json`,
    JSON.stringify({
      checksum: sha256(other.bytes),
      size: SIZE,
      range_bytes: MiB,
      done: [...Array(RANGES).keys()],
    }),
  );
  proxy.reset();
  const res = await cli.run(
    ['artifact', 'download', shared.id, '--state', '10', '--name', 'shared.raw', '-O', 'swap.raw'],
    {
      cwd: dir,
      env: { HTTP_PROXY: proxy.url, ...rangeEnv },
    },
  );
  expect(res).toMatchObject({ code: 0 });
  expect(readFileSync(join(dir, 'swap.raw')).equals(shared.bytes)).toBe(true);
  expect(s3GetsOf(proxy).reduce((n, g) => n + g.bytesDown, 0)).toBe(SIZE);
});

it('a corrupted object is refused: exit 3, nothing under the final name, the bytes kept as partial', async () => {
  const id = (
    await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'in_progress' })).status,
  ).toBe(201);
  const good = randomBytes(SIZE);
  const bad = Buffer.from(good);
  bad[SIZE - 5] = bad[SIZE - 5]! ^ 0xff;
  const reg = await stack.call('POST', `/builds/${id}/states/10/artifacts`, {
    name: 'bad.raw',
    storage_type: 's3',
    size_bytes: SIZE,
    checksum: sha256(good),
  });
  expect(reg.status).toBe(201);
  // A writer with access to the bucket, without the signed checksum header (which local mode's S3
  // checks, as S3 does): the flipped byte is stored as it is.
  const { 'x-amz-checksum-sha256': _checksum, ...headers } = reg.body.upload.headers;
  const put = await fetch(reg.body.upload.url, { method: 'PUT', headers, body: bad });
  expect(put.status).toBe(200);
  const dir = mkdtempSync(join(work, 'bad-'));
  const res = await cli.run(['artifact', 'download', id, '--state', '10', '--name', 'bad.raw'], {
    cwd: dir,
    env: rangeEnv,
  });
  expect(res.code).toBe(3);
  expect(res.stderr).toContain('checksum mismatch for bad.raw');
  expect(res.stderr).toContain(sha256(bad));
  expect(existsSync(join(dir, 'bad.raw'))).toBe(false);
  expect(readFileSync(join(dir, '.bad.raw.bldst-partial')).equals(bad)).toBe(true);
  // Its ranges are forgotten: nothing would resume from bytes that failed their checksum.
  expect(existsSync(join(dir, '.bad.raw.bldst-partial.json'))).toBe(false);
});

describe('progress', () => {
  const args = () => [
    'artifact',
    'download',
    other.id,
    '--state',
    '10',
    '--name',
    'other.raw',
    '-O',
    `p-${randomBytes(3).toString('hex')}.raw`,
  ];

  it('on a terminal: one line redrawn in place with bytes, percentage, rate and ETA', async () => {
    // script(1) gives bldst a pseudo-terminal; the slow proxy makes the transfer last a few
    // seconds. Asynchronous: the stack and the proxy serve from this process.
    const command = [process.execPath, BLDST_BIN, ...args()].map((a) => `'${a}'`).join(' ');
    const { stdout: out } = await run('script', ['-qec', command, '/dev/null'], {
      cwd: cli.home,
      env: {
        PATH: process.env.PATH ?? '',
        XDG_CONFIG_HOME: join(cli.home, 'config'),
        BUILDSTATE_API_URL: stack.url,
        BUILDSTATE_API_TOKEN: ADMIN_KEY,
        HTTP_PROXY: slow.url,
        NO_PROXY: hostOf(stack.url),
        COLUMNS: '100',
        ...rangeEnv,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    const redraws = out.split('\r').filter((l) => l.includes('%'));
    expect(redraws.length).toBeGreaterThan(2);
    expect(redraws.at(-1)).toMatch(/16\.0 MiB \/ 16\.0 MiB {2}100% {2}[\d.]+ [KM]iB\/s {2}ETA -/);
    expect(redraws.some((l) => /ETA \d+s/.test(l))).toBe(true);
    // Redrawn in place: the figures never start a new line until the end.
    expect(out.split('\n').filter((l) => l.includes('%'))).toHaveLength(1);
  });

  it('on a pipe: none unless --progress, and never with -q', async () => {
    const quietPipe = await cli.run(args(), { env: rangeEnv });
    expect(quietPipe).toMatchObject({ code: 0 });
    expect(quietPipe.stderr).not.toContain('%');
    const asked = await cli.run([...args(), '--progress'], { env: rangeEnv });
    expect(asked.stderr).toMatch(/p-\w+\.raw {2}16\.0 MiB \/ 16\.0 MiB {2}100%/);
    expect(asked.stderr).not.toContain('\r');
    const quiet = await cli.run([...args(), '--progress', '-q'], { env: rangeEnv });
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
  });

  it('an upload in parts shows the same line: on a pipe with --progress, never with -q', async () => {
    const id = (
      await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
    ).stdout.trim();
    expect(
      (await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'in_progress' })).status,
    ).toBe(201);
    const file = join(work, `${id}-up.raw`);
    writeFileSync(file, randomBytes(SIZE));
    const up = (name: string, ...extra: string[]) =>
      cli.run([
        'artifact',
        'upload',
        id,
        file,
        '--state',
        '10',
        '--name',
        name,
        '--part-size',
        '5MiB',
        ...extra,
      ]);
    const plain = await up('plain.raw');
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('%');
    const asked = await up('asked.raw', '--progress');
    expect(asked.code).toBe(0);
    expect(asked.stderr).toMatch(/16\.0 MiB \/ 16\.0 MiB {2}100%/);
    expect(asked.stderr).not.toContain('\r');
    const quiet = await up('quiet.raw', '--progress', '-q');
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
  });
});

/**
 * `npm run package:cli`'s two forms, used as on a build server without this repository: from an
 * empty folder outside it, the executable with an empty PATH (no Node.js to find), the npm
 * package installed with `npm install -g` into a prefix of its own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const exe = join(ROOT, 'dist', 'bldst');
const tgz = join(ROOT, 'dist', `bldst-${version}.tgz`);
const outside = mkdtempSync(join(tmpdir(), 'bs-server-'));
let stack: TestStack;

beforeAll(async () => {
  execFileSync('npm', ['run', '-s', 'package:cli'], { cwd: ROOT, stdio: 'ignore' });
  stack = await startTestStack();
}, 240_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(outside, { recursive: true, force: true });
});

const run = (file: string, args: string[], env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(file, args, { cwd: outside, env: { HOME: outside, ...env } }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

it('makes an executable that runs with an empty PATH', async () => {
  expect(statSync(exe).mode & 0o111).not.toBe(0);
  const env = { PATH: '' };
  expect(await run(exe, ['--version'], env)).toEqual({ code: 0, stdout: `bldst ${version}\n`, stderr: '' });
  const api = { ...env, BUILDSTATE_API_URL: stack.url, BUILDSTATE_API_TOKEN: ADMIN_KEY };
  const created = await run(
    exe,
    ['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'],
    api,
  );
  expect([created.code, created.stdout]).toEqual([0, expect.stringMatching(/^[0-9A-Z]{26}\n$/)]);
  const got = await run(exe, ['build', 'get', created.stdout.trim()], api);
  expect(JSON.parse(got.stdout)).toMatchObject({ id: created.stdout.trim(), status: 'pending' });
});

it('makes an npm package with no runtime dependencies that npm install -g turns into bldst', async () => {
  const listing = execFileSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' });
  const manifest = JSON.parse(listing) as Record<string, unknown>;
  expect(manifest).toMatchObject({
    name: 'bldst',
    version,
    bin: { bldst: 'bin/bldst.mjs', bldst_cli: 'bin/bldst.mjs' },
  });
  expect(manifest).not.toHaveProperty('dependencies');
  const prefix = join(outside, 'prefix');
  execFileSync('npm', ['install', '-g', tgz, '--prefix', prefix, '--offline', '--no-audit', '--no-fund'], {
    cwd: outside,
    stdio: 'ignore',
    env: { ...process.env, npm_config_cache: join(outside, 'npm-cache') },
  });
  const bin = join(prefix, 'bin', 'bldst');
  const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
  expect((await run(bin, ['--version'], env)).stdout).toBe(`bldst ${version}\n`);
  expect((await run(join(prefix, 'bin', 'bldst_cli'), ['--version'], env)).stdout).toBe(`bldst ${version}\n`);
  const listed = await run(bin, ['build', 'list', '-q'], {
    ...env,
    BUILDSTATE_API_URL: stack.url,
    BUILDSTATE_API_TOKEN: ADMIN_KEY,
  });
  expect(listed.code).toBe(0);
});

it("installs with the docs' own line, as written (./dist/…: npm reads a bare dist/… as a GitHub name)", async () => {
  const lines = ['README.md', join('docs', 'CLI.md')].map((doc) => {
    const line = readFileSync(join(ROOT, doc), 'utf8').match(/^npm install -g \S+\.tgz/m)?.[0];
    expect([doc, line]).toEqual([doc, `npm install -g ./dist/bldst-${version}.tgz`]);
    return line!;
  });
  expect(new Set(lines).size).toBe(1);
  // Run from the repository as the docs say, into a prefix of its own (npm_config_prefix), offline.
  const prefix = join(outside, 'docs-prefix');
  execFileSync('sh', ['-c', `${lines[0]} --offline --no-audit --no-fund`], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, npm_config_prefix: prefix, npm_config_cache: join(outside, 'npm-cache-docs') },
  });
  expect(
    (await run(join(prefix, 'bin', 'bldst'), ['--version'], { PATH: process.env.PATH ?? '' })).stdout,
  ).toBe(`bldst ${version}\n`);
});

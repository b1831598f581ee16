/**
 * The deployable artifacts themselves: `cdk synth` through the pinned CLI, offline, then every
 * function bundle loaded in a fresh Node process, as Lambda would load it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROUTES } from '../../lib/http/routes';

const root = resolve(__dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'bs-cdk-out-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Without a network at all where the machine allows it (a private network namespace). */
const offline = spawnSync('unshare', ['-n', 'true']).status === 0 ? ['unshare', '-n'] : [];

it('synthesizes with the pinned CLI, offline, and every bundle loads and exports a handler', () => {
  const cdk = join(root, 'node_modules', '.bin', 'cdk');
  const [cmd, ...args] = [...offline, cdk, 'synth', '--quiet', '-o', out, '-c', 'stage=dev'];
  execFileSync(cmd!, args, {
    cwd: root,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    stdio: 'pipe',
  });

  const template = JSON.parse(readFileSync(join(out, 'BuildState-dev-Stateless.template.json'), 'utf8'));
  const assets = Object.values(
    template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
  )
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => join(out, r.Metadata!['aws:asset:path']!));
  // One per function group of the route table, plus the authorizer, the event publisher, the
  // aggregator and the stuck detector.
  expect(assets).toHaveLength(new Set(ROUTES.map((r) => r.group)).size + 4);

  for (const dir of assets) {
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); if (typeof m.handler !== 'function') process.exit(3);`,
      ],
      { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
    );
    expect({ dir, status: probe.status, stderr: probe.stderr }).toEqual({ dir, status: 0, stderr: '' });
  }
  expect(existsSync(join(out, 'BuildState-dev-Stateful.template.json'))).toBe(true);
}, 120_000);

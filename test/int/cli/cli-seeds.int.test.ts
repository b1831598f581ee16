/**
 * The seeds' command lines, as written, against a fresh `npm start` (its own data folder, the
 * README's dev key): the first thing a new user types. Only the server's address (a free port
 * instead of 8080) and the placeholders (<build-id>) are filled in.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLDST_BIN, buildCli, ROOT } from '../../helpers/cli';

const bundle = join(ROOT, '.build', 'test', `seeds-start-${process.pid}.mjs`);
const home = mkdtempSync(join(tmpdir(), 'bs-seeds-'));
let server: ChildProcess;
let url = '';

/** The block of the issue (#14, section 1), verbatim. */
const SEEDS = [
  'bldst config set-url http://127.0.0.1:8080',
  'bldst auth set-key dev-key-12345',
  'bldst platform list',
  'bldst os-version list',
  'bldst image-type list',
  'bldst project create --name "rhel-9-base" --description "RHEL 9 base images"',
  'bldst platform create --name "Production AWS" --cloud-provider aws --region us-east-1',
  'bldst os-version create --name "Ubuntu" --version "22.04"',
  'bldst image-type create --name "web-server" --description "Nginx web server"',
  `bldst platform list --output json | jq '.[] | select(.cloud_provider == "aws")'`,
  'bldst user create --username "builder" --email "builder@example.com"',
  'bldst token create --username "builder" --description "Build pipeline token"',
  'bldst build create --platform "aws" --image-type "rhel8" --description "RHEL 8 base image"',
  'bldst build update <build-id> --state 10 --status "completed"',
  "bldst build update <build-id> --state 15 --status completed --message 'Packer provisioner completed'",
  "bldst build create --project-id rhel-9 --platform-id aws-commercial --os-version-id rhel-9.3 \\\n  --image-type-id base --build-number 2024.02.001 --output json | jq -r '.id'",
  'bldst build list --status in_progress',
  'bldst build history <build-id>',
  'bldst auth login',
  'bldst --verbose build list',
];

beforeAll(async () => {
  buildCli();
  execFileSync(process.execPath, ['scripts/build-local.mjs', 'local/start.ts', bundle], { cwd: ROOT });
  const bin = join(home, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'bldst'), `#!/bin/sh\nexec "${process.execPath}" "${BLDST_BIN}" "$@"\n`);
  chmodSync(join(bin, 'bldst'), 0o755);
  server = spawn(process.execPath, [bundle], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      BUILDSTATE_DATA_DIR: join(home, 'data'),
      BUILDSTATE_BOOTSTRAP_ADMIN_KEY: 'dev-key-12345',
      BUILDSTATE_SAMPLE_DATA: '',
      BUILDSTATE_ACCESS_LOG: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  server.stdout!.on('data', (c) => {
    out += c;
  });
  server.stderr!.on('data', (c) => {
    out += c;
  });
  const deadline = Date.now() + 45_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`npm start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  url = /running at (\S+)/.exec(out)![1]!;
}, 90_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(bundle, { force: true });
  rmSync(home, { recursive: true, force: true });
});

interface Ran {
  line: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** One seed line in bash, as a user's shell runs it (pipefail: a failing bldst before `| jq` counts). */
function sh(line: string, input = ''): Promise<Ran> {
  return new Promise((done) => {
    const child = execFile(
      'bash',
      ['-o', 'pipefail', '-c', line],
      {
        cwd: home,
        env: {
          PATH: `${join(home, 'bin')}:${process.env.PATH}`,
          HOME: home,
          XDG_CONFIG_HOME: join(home, 'config'),
        },
      },
      (error, stdout, stderr) =>
        done({ line, code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

it('runs every seed command line on a fresh npm start', async () => {
  const results: Ran[] = [];
  let buildId = '';
  let password = '';
  for (const seed of SEEDS) {
    const line = seed.replace('http://127.0.0.1:8080', url).replace('<build-id>', buildId);
    const r = await sh(line, seed === 'bldst auth login' ? `builder\n${password}\n` : '');
    results.push(r);
    if (seed.startsWith('bldst user create')) password = JSON.parse(r.stdout).generated_password;
    if (seed.startsWith('bldst build create --platform "aws"')) buildId = JSON.parse(r.stdout).id;
  }
  const failed = results.filter((r) => r.code !== 0).map((r) => `${r.line} → ${r.code}: ${r.stderr}`);
  expect(failed).toEqual([]);

  const out = (prefix: string) => results.find((r) => r.line.startsWith(prefix))!;
  const ids = (r: Ran) => (JSON.parse(r.stdout) as { id: string }[]).map((i) => i.id);
  expect(ids(out('bldst platform list'))).toEqual(
    expect.arrayContaining(['aws', 'aws-commercial', 'oracle']),
  );
  expect(JSON.parse(out('bldst os-version create').stdout)).toMatchObject({
    id: 'ubuntu-22.04',
    version: '22.04',
  });
  expect(JSON.parse(out('bldst platform create').stdout)).toMatchObject({
    id: 'production-aws',
    region: 'us-east-1',
  });
  // jq's output: every aws platform, the new one included.
  const aws = out('bldst platform list --output json |').stdout.match(/"id": "[^"]+"/g);
  expect(aws).toEqual(
    expect.arrayContaining(['"id": "aws"', '"id": "production-aws"', '"id": "aws-govcloud"']),
  );
  expect(aws).not.toContain('"id": "azure"');
  expect(password).toMatch(/^\S{16,}$/);
  expect(JSON.parse(out('bldst token create').stdout)).toMatchObject({
    owner: 'builder',
    scopes: ['write', 'read'],
    secret: expect.stringMatching(/^bst_/),
  });
  expect(JSON.parse(out(`bldst build update ${buildId} --state 15`).stdout)).toMatchObject({
    current_state: 15,
    state_status: 'completed',
  });
  expect(out('bldst build create --project-id').stdout).toMatch(/^[0-9A-Z]{26}\n$/);
  expect(ids(out('bldst build list --status'))).toEqual([buildId]);
  const history = JSON.parse(out('bldst build history').stdout) as { state_code: number; message: string }[];
  expect(history.map((h) => h.state_code)).toEqual([0, 10, 15]);
  expect(history[2]!.message).toBe('Packer provisioner completed');
  // Logged in: the next commands run as the user, with a Bearer token.
  expect(JSON.parse(out('bldst auth login').stdout)).toMatchObject({
    username: 'builder',
    scope: 'write read',
  });
  const verbose = out('bldst --verbose build list');
  expect(verbose.stderr).toMatch(/^bldst: GET \/builds\?limit=25 → 200 \(\d+ ms\)\n$/);
  expect(ids(verbose)).toHaveLength(2);
  expect(JSON.parse((await sh('bldst auth whoami')).stdout)).toMatchObject({ id: 'user:builder' });
}, 120_000);

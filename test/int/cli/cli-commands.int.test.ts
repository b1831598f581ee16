/** Every bldst command beyond builds and runs, as a subprocess against the local stack. */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLDST_BIN, buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const { run: bldst, home } = cliRunner(() => stack.url);
const json = (r: CliResult) => JSON.parse(r.stdout);

beforeAll(async () => {
  buildCli();
  // The dashboard's counters come from the table stream: the local aggregator runs with the stack.
  stack = await startTestStack({ events: { pollMs: 50 } });
}, 60_000);
afterAll(() => stack.stop());

describe('reference data', () => {
  it('creates, lists, gets, updates, deletes and restores each kind', async () => {
    const made = await bldst([
      'platform',
      'create',
      '--name',
      'Edge DC',
      '--cloud-provider',
      'vsphere',
      '--region',
      'fra1',
    ]);
    expect(json(made)).toMatchObject({
      id: 'edge-dc',
      cloud_provider: 'vsphere',
      region: 'fra1',
      partition: null,
    });
    // The same create again succeeds (a setup script run twice); different values are a conflict.
    const again = await bldst([
      'platform',
      'create',
      '--name',
      'Edge DC',
      '--cloud-provider',
      'vsphere',
      '--region',
      'fra1',
    ]);
    expect([again.code, again.stderr]).toEqual([
      0,
      "bldst: platform 'edge-dc' already exists with these values\n",
    ]);
    const other = await bldst(['platform', 'create', '--name', 'Edge DC', '--cloud-provider', 'other']);
    expect([other.code, other.stderr]).toEqual([
      3,
      "bldst: already_exists: Platform 'edge-dc' already exists\n",
    ]);

    const os = await bldst(['os-version', 'create', '--name', 'Debian', '--version', '12']);
    expect(json(os)).toMatchObject({ id: 'debian-12', version: '12', revision: 1 });
    expect((await bldst(['project', 'create', '--id', 'sap', '--name', 'SAP', '-q'])).stdout).toBe('sap\n');
    expect((await bldst(['image-type', 'create', '--name', 'hana', '-q'])).stdout).toBe('hana\n');

    expect(json(await bldst(['platform', 'list'])).map((p: { id: string }) => p.id)).toContain('edge-dc');
    expect((await bldst(['os-version', 'list', '-q'])).stdout.split('\n')).toContain('debian-12');
    const updated = await bldst([
      'os-version',
      'update',
      'debian-12',
      '--version',
      '12.8',
      '--if-match',
      '1',
    ]);
    expect(json(updated)).toMatchObject({ version: '12.8', revision: 2 });
    const stale = await bldst(['os-version', 'update', 'debian-12', '--description', 'x', '--if-match', '1']);
    expect(stale.code).toBe(3);
    expect(json(await bldst(['platform', 'delete', 'edge-dc']))).toMatchObject({ active: false });
    expect(json(await bldst(['platform', 'list'])).map((p: { id: string }) => p.id)).not.toContain('edge-dc');
    expect(
      json(await bldst(['platform', 'list', '--include-deactivated'])).map((p: { id: string }) => p.id),
    ).toContain('edge-dc');
    expect(json(await bldst(['platform', 'restore', 'edge-dc']))).toMatchObject({ active: true });
    expect(json(await bldst(['image-type', 'get', 'hana']))).toMatchObject({ id: 'hana', name: 'hana' });
    expect((await bldst(['project', 'get', 'nope'])).code).toBe(4);
    expect((await bldst(['project', 'update', 'sap'])).code).toBe(2);
  });
});

describe('users, tokens, API keys and login', () => {
  it("makes a user's token that never outgrows the user and dies with them", async () => {
    const user = await bldst(['user', 'create', '--username', 'pipeline', '--email', 'p@example.com']);
    expect(user.code).toBe(0);
    const password = json(user).generated_password as string;
    expect(password).toMatch(/^[\w-]{24}$/);
    const chosen = await bldst(
      [
        'user',
        'create',
        '--username',
        'reader',
        '--email',
        'r@example.com',
        '--scopes',
        'read',
        '--password-stdin',
      ],
      { input: 'a password of my own\n' },
    );
    expect(json(chosen)).not.toHaveProperty('generated_password');

    const token = json(await bldst(['token', 'create', '--username', 'pipeline', '--description', 'CI']));
    expect(token).toMatchObject({ owner: 'pipeline', name: 'CI', scopes: ['write', 'read'] });
    const wider = await bldst(['token', 'create', '--username', 'reader', '--scopes', 'write']);
    expect(wider.code).toBe(2);
    const asToken = { env: { BUILDSTATE_API_TOKEN: token.secret } };
    expect(json(await bldst(['auth', 'whoami'], asToken))).toMatchObject({ name: 'pipeline: CI' });
    expect(
      json(await bldst(['token', 'list', '--username', 'pipeline'])).map((k: { id: string }) => k.id),
    ).toEqual([token.id]);

    const key = await bldst(['api-key', 'create', '--name', 'concourse', '--scopes', 'write', '-q']);
    expect(key.stdout).toMatch(/^bst_\S+\n$/);
    const keys = json(await bldst(['api-key', 'list']));
    expect(keys.find((k: { name: string }) => k.name === 'concourse')).toMatchObject({ owner: null });
    const keyId = keys.find((k: { name: string }) => k.name === 'concourse').id;
    expect(json(await bldst(['api-key', 'revoke', keyId]))).toMatchObject({ active: false });
    expect((await bldst(['auth', 'whoami'], { env: { BUILDSTATE_API_TOKEN: key.stdout.trim() } })).code).toBe(
      5,
    );

    // auth login: username and password from stdin (a script), the token used as Bearer.
    const env = { BUILDSTATE_API_TOKEN: '' };
    const login = await bldst(['auth', 'login'], { env, input: `pipeline\n${password}\n` });
    expect(json(login)).toMatchObject({ username: 'pipeline', scope: 'write read' });
    expect(json(await bldst(['auth', 'whoami'], { env }))).toMatchObject({
      id: 'user:pipeline',
      type: 'user',
    });
    const viaFlag = await bldst(['auth', 'login', '--username', 'reader', '--password-stdin'], {
      env,
      input: 'a password of my own\n',
    });
    expect(viaFlag.code).toBe(0);
    expect(json(await bldst(['config', 'show'], { env }))).toMatchObject({
      credential: 'bearer',
      login: 'reader',
    });
    const wrong = await bldst(['auth', 'login', '--username', 'reader', '--password-stdin'], {
      env,
      input: 'nope\n',
    });
    expect(wrong.code).toBe(5);
    // A script with nothing on stdin is told what to send instead.
    const nothing = await bldst(['auth', 'login'], { env, input: '' });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('--username and the password on stdin');

    // Deactivating the user stops their token at once.
    expect(json(await bldst(['user', 'delete', 'pipeline']))).toMatchObject({ active: false });
    const dead = await bldst(['auth', 'whoami'], asToken);
    expect([dead.code, dead.stderr]).toEqual([
      5,
      "bldst: unauthorized: The user of this API token ('pipeline') is deactivated or gone\n",
    ]);
    expect(json(await bldst(['user', 'list'])).map((u: { username: string }) => u.username)).not.toContain(
      'pipeline',
    );
    expect(json(await bldst(['token', 'revoke', token.id]))).toMatchObject({ active: false });
  });

  it('says in one line to log in again when the stored login expired (exit 5)', async () => {
    const cfg = join(home, 'expired');
    mkdirSync(join(cfg, 'bldst'), { recursive: true });
    writeFileSync(
      join(cfg, 'bldst', 'config.json'),
      JSON.stringify({
        url: stack.url,
        token: 'eyJhbGciOiJIUzI1NiJ9.e30.x',
        token_expires_at: '2020-01-01T00:00:00.000Z',
        token_username: 'old',
      }),
    );
    const r = await bldst(['build', 'list'], { env: { XDG_CONFIG_HOME: cfg, BUILDSTATE_API_TOKEN: '' } });
    expect([r.code, r.stderr]).toEqual([
      5,
      'bldst: your login as old expired at 2020-01-01T00:00:00.000Z; log in again: bldst auth login\n',
    ]);
  });
});

describe('state codes, leases, heartbeats, dashboard', () => {
  it('reads and replaces a catalog from YAML', async () => {
    const before = json(await bldst(['state-codes', 'get', 'default']));
    expect(before.state_codes).toHaveLength(21);
    writeFileSync(
      join(home, 'catalog.yaml'),
      '- { code: 0, name: Start }\n- { code: 42, name: CIS hardening, max_attempts: 5 }\n- { code: 100, name: Done }\n',
    );
    expect((await bldst(['project', 'create', '--id', 'cis', '--name', 'CIS'])).code).toBe(0);
    const set = await bldst(['state-codes', 'set', 'cis', '-f', 'catalog.yaml']);
    expect(json(set)).toMatchObject({ version: 2 });
    expect(
      json(await bldst(['state-codes', 'get', 'cis'])).state_codes.map((c: { code: number }) => c.code),
    ).toEqual([0, 42, 100]);
    expect((await bldst(['state-codes', 'set', 'cis', '-f', 'missing.yaml'])).code).toBe(2);
  });

  it('takes, shows, renews and releases a lease; heartbeats; shows the dashboard', async () => {
    const id = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    const lease = (await bldst(['lease', 'take', id, '--worker', 'w1', '--ttl', '60', '-q'])).stdout.trim();
    expect(lease).toMatch(/^[0-9A-Z]{26}$/);
    expect(json(await bldst(['lease', 'show', id])).lease).toMatchObject({ worker_id: 'w1' });
    expect((await bldst(['heartbeat', id, '--worker', 'w2'])).code).toBe(3);
    expect((await bldst(['lease', 'renew', id, '--lease-id', lease])).code).toBe(0);
    // Under a handed-down lease the id comes from the environment.
    const handed = { env: { BLDST_BUILD_ID: id, BLDST_LEASE_ID: lease } };
    expect((await bldst(['build', 'update', '--state', '5', '--status', 'in_progress'], handed)).code).toBe(
      0,
    );
    expect((await bldst(['lease', 'release'], handed)).code).toBe(0);
    expect(json(await bldst(['lease', 'show', id])).lease).toBeNull();
    expect(json(await bldst(['heartbeat', id, '--worker', 'w2']))).toMatchObject({ worker_id: 'w2' });

    await stack.events!.drain();
    const summary = json(await bldst(['dashboard', 'summary']));
    expect(summary.builds.total).toBeGreaterThan(0);
    expect(json(await bldst(['dashboard', 'durations']))).toHaveProperty('items');
    expect(json(await bldst(['dashboard', 'stuck']))).toHaveProperty('heartbeat_timeout_s');
    const table = await bldst(['dashboard', 'summary', '-o', 'table']);
    expect(table.stdout).toMatch(/^\d+ builds: .*\nlast 7 days: build success /);
  });
});

describe('local mistakes and help', () => {
  it('--sigv4 without any region is exit 2 saying what to set', async () => {
    const r = await bldst(['--sigv4', 'build', 'list'], {
      env: { AWS_CONFIG_FILE: join(home, 'no-aws-config'), AWS_REGION: '', AWS_DEFAULT_REGION: '' },
    });
    expect([r.code, r.stderr]).toEqual([
      2,
      `bldst: --sigv4 needs a region: set AWS_REGION, or region in the [default] section of ${join(home, 'no-aws-config')}\n`,
    ]);
  });

  it('answers completion --help and run --help with real usage; global options go before or after', async () => {
    const completion = await bldst(['completion', '--help']);
    expect([completion.code, completion.stdout.split('\n')[0]]).toEqual([
      0,
      'Usage: bldst completion bash|zsh',
    ]);
    // A group's --help (and a bare group, and `help GROUP`) lists its commands.
    const group = await bldst(['build', '--help']);
    expect([group.code, group.stdout.split('\n')[0]]).toEqual([0, 'Usage: bldst build <command> [options]']);
    expect(group.stdout).toContain('build add-state');
    expect((await bldst(['help', 'lease'])).stdout).toContain('lease take');
    expect((await bldst(['artifact'])).code).toBe(2);
    const run = await bldst(['run', '--help']);
    expect(run.stdout.split('\n')[0]).toBe('Usage: bldst run [options] -- <command> [args…]');
    expect(run.stdout).toContain('--state <value>');
    const before = await bldst(['-o', 'json', '--verbose', 'platform', 'list']);
    const after = await bldst(['platform', 'list', '--verbose', '-o', 'json']);
    expect(before.stdout).toBe(after.stdout);
    expect(before.stderr).toMatch(/^bldst: GET \/platforms\?limit=100 → 200/);
    // After `--` nothing is an option of bldst.
    const passed = await bldst(['run', '--build', 'b', '--', 'echo', '--verbose'], {
      env: { BUILDSTATE_API_URL: 'http://127.0.0.1:9' },
    });
    expect(passed.stderr).not.toMatch(/GET/);
  });

  it('prints debug bodies with secrets masked', async () => {
    const r = await bldst(['api-key', 'create', '--name', 'masked', '--scopes', 'read'], {
      env: { BUILDSTATE_DEBUG: '1' },
    });
    const secret = json(r).secret as string;
    expect(r.stderr).toMatch(/^bldst: > POST \/api-keys \{"name":"masked","scopes":\["read"\]\}\n/);
    expect(r.stderr).toContain('"secret":"bst_…(masked)"');
    expect(r.stderr).not.toContain(secret);
  });
});

describe('artifact upload in a CI log', () => {
  it('prints no presigned URL unless -o json asks for it', async () => {
    const id = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'x', '-q'])
    ).stdout.trim();
    await bldst(['build', 'update', id, '--state', '10', '--status', 'in_progress']);
    writeFileSync(join(home, 'disk.img'), 'disk');
    for (const output of [[], ['-o', 'table']]) {
      const r = await bldst(['artifact', 'upload', id, 'disk.img', '--state', '10', ...output]);
      expect([r.code, r.stdout]).toEqual([0, expect.not.stringMatching(/X-Amz-|https?:\/\/127/)]);
    }
    const asked = await bldst([
      'artifact',
      'add',
      id,
      '--state',
      '10',
      '--name',
      'other.img',
      '--storage-type',
      's3',
      '-o',
      'json',
    ]);
    expect(json(asked).upload.url).toMatch(/X-Amz-Signature/);
  });
});

describe('a terminal and a pipe', () => {
  const ESC = String.fromCharCode(27);
  const strip = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');
  const coloured = (text: string) => text.includes(`${ESC}[`);
  /** bldst on a pseudo-terminal (script -qc), as a person at a terminal sees it. */
  const onTty = (args: string, env: Record<string, string> = {}): Promise<string> =>
    new Promise((done, fail) =>
      execFile(
        'script',
        ['-qec', `"${process.execPath}" "${BLDST_BIN}" ${args}`, '/dev/null'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            XDG_CONFIG_HOME: join(home, 'config'),
            BUILDSTATE_API_URL: stack.url,
            BUILDSTATE_API_TOKEN: 'bst_test_admin_key_for_integration_tests',
            TERM: 'xterm',
            ...env,
          },
        },
        (error, stdout) => (error ? fail(error) : done(stdout.replace(/\r\n/g, '\n'))),
      ),
    );

  beforeAll(async () => {
    const long = (
      await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9-base', '-q'])
    ).stdout.trim();
    await bldst([
      'build',
      'update',
      long,
      '--state',
      '50',
      '--status',
      'failed',
      '--error',
      'ldap: timed out',
    ]);
  });

  it('colours statuses, fits the width with …, and shows everything with --wide', async () => {
    const table = await onTty('build list', { COLUMNS: '80' });
    expect(table).toContain(`${ESC}[31mfailed`);
    expect(table.startsWith(`${ESC}[1mID`)).toBe(true);
    const plain = strip(table);
    for (const line of plain.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(plain).toContain('…');
    const wide = strip(await onTty('build list --wide', { COLUMNS: '80' }));
    expect(wide).not.toContain('…');
    expect(Math.max(...wide.split('\n').map((l) => [...l].length))).toBeGreaterThan(80);
  });

  it('honours NO_COLOR and FORCE_COLOR, and gives a pipe JSON without colour', async () => {
    expect(coloured(await onTty('build list', { NO_COLOR: '1' }))).toBe(false);
    expect(coloured(await onTty('build list', { FORCE_COLOR: '0' }))).toBe(false);
    const piped = await bldst(['build', 'list']);
    expect(coloured(piped.stdout)).toBe(false);
    expect(Array.isArray(json(piped))).toBe(true);
    const forced = await bldst(['build', 'list', '-o', 'table'], { env: { FORCE_COLOR: '1' } });
    expect(coloured(forced.stdout)).toBe(true);
  });

  it('says so when a list is empty', async () => {
    expect((await onTty('build list --status blocked', { NO_COLOR: '1' })).trim()).toBe('no builds match');
  });
});

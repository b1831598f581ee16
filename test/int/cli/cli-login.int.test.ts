/**
 * Logins that last as long as builds, with real bldst processes against the local stack: a 60 s
 * login outlives a 65 s step (renewed with its refresh token), and when renewal is impossible
 * (the login revoked, the user deactivated) the finished step's report is named with the command
 * that sends it. `auth login` works whatever state the stored login is in.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, cliRunner } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

const PASSWORD = 'a long enough password';

/** A user logged in with a 60 s token, in a config home of its own; bldst runs as that user. */
async function loggedIn(username: string) {
  expect(
    (
      await stack.call('POST', '/users', {
        username,
        email: `${username}@example.com`,
        password: PASSWORD,
        scopes: ['write'],
      })
    ).status,
  ).toBe(201);
  const cli = cliRunner(() => stack.url, mkdtempSync(join(tmpdir(), `bs-login-${username}-`)));
  const as = (args: string[], input?: string) => cli.run(args, { env: { BUILDSTATE_API_TOKEN: '' }, input });
  const login = await as(
    ['auth', 'login', '--username', username, '--password-stdin', '--ttl', '60'],
    `${PASSWORD}\n`,
  );
  expect(login.code).toBe(0);
  // In a pipe the answer is JSON: the token's expiry and how long the login renews itself.
  expect(Date.parse(JSON.parse(login.stdout).renewable_until)).toBeGreaterThan(Date.now() + 86400_000);
  const configFile = join(cli.home, 'config', 'bldst', 'config.json');
  const config = () => JSON.parse(readFileSync(configFile, 'utf8'));
  const build = (
    await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  return { as, config, configFile, build };
}

/** A step command: node running a snippet (fetch against the stack) — no curl needed. */
const nodeStep = (code: string) => `"${process.execPath}" -e '${code.replace(/'/g, `'\\''`)}'`;

describe('a login that lasts as long as the build', () => {
  it('a 60 s login outlives a 65 s step; a revoked login names the report it could not send', async () => {
    const ok = await loggedIn('long-step');
    const revoked = await loggedIn('revoked-step');
    const firstRefresh = ok.config().refresh_token;

    const revokeOwnLogin = nodeStep(
      `const c = require(${JSON.stringify(revoked.configFile)}); fetch(${JSON.stringify(stack.url)} + "/auth/revoke", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({refresh_token: c.refresh_token})}).then(r => r.json()).then(b => { if (!b.revoked) process.exit(9) })`,
    );
    const [long, cut] = await Promise.all([
      ok.as(['run', '--build', ok.build, '--state', '15', '--', 'sh', '-c', 'sleep 65; echo done']),
      revoked.as([
        'run',
        '--build',
        revoked.build,
        '--state',
        '15',
        '--',
        'sh',
        '-c',
        `${revokeOwnLogin} && sleep 65`,
      ]),
    ]);

    // Renewed: the reports after the token's 60 s went through, and the file holds the next pair.
    expect(long.stderr).toContain('state 15: completed');
    expect(long.code).toBe(0);
    expect((await stack.call('GET', `/builds/${ok.build}`)).body).toMatchObject({
      current_state: 15,
      state_status: 'completed',
    });
    expect(ok.config().refresh_token).not.toBe(firstRefresh);
    expect(Date.parse(ok.config().token_expires_at)).toBeGreaterThan(Date.now());

    // Revoked mid-step: the finished step is not dropped silently.
    expect(cut.code).toBe(5);
    expect(cut.stderr).toContain(
      `state 15 of build ${revoked.build} finished (completed) but its report could not be sent: your login as revoked-step cannot be renewed: This login was revoked; log in again`,
    );
    expect(cut.stderr).toContain(
      `  bldst build add-state ${revoked.build} --state 15 --status completed --worker test-worker`,
    );
    expect((await stack.call('GET', `/builds/${revoked.build}`)).body).toMatchObject({
      current_state: 15,
      state_status: 'in_progress',
    });

    // auth login works whatever the stored login's state, and the printed command then sends the report.
    const again = await revoked.as(
      ['auth', 'login', '--username', 'revoked-step', '--password-stdin'],
      `${PASSWORD}\n`,
    );
    expect(again.code).toBe(0);
    // The dead run could not release its lease either: it expires by itself (TTL 120 s), and the
    // report is refused (lease_held) until then. Here the same worker re-takes and releases it instead.
    expect(cut.stderr).toContain('once the lease this run held has expired');
    const retaken = await stack.call('POST', `/builds/${revoked.build}/lease`, { worker_id: 'test-worker' });
    expect(retaken.status).toBe(201);
    await stack.call('DELETE', `/builds/${revoked.build}/lease`, undefined, {
      'x-lease-id': retaken.body.lease_id,
    });
    const sent = await revoked.as([
      'build',
      'add-state',
      revoked.build,
      '--state',
      '15',
      '--status',
      'completed',
      '--worker',
      'test-worker',
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    expect((await stack.call('GET', `/builds/${revoked.build}`)).body).toMatchObject({
      state_status: 'completed',
    });
  }, 150_000);

  it('a deactivated user: the renewal is refused at once and the failed report is named', async () => {
    const user = await loggedIn('deactivated-step');
    const deactivate = nodeStep(
      `fetch(${JSON.stringify(stack.url)} + "/users/deactivated-step", {method: "DELETE", headers: {"x-api-key": ${JSON.stringify(ADMIN_KEY)}}}).then(r => process.exit(r.status === 200 ? 7 : 9))`,
    );
    const r = await user.as(['run', '--build', user.build, '--state', '20', '--', 'sh', '-c', deactivate]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(
      `state 20 of build ${user.build} finished (failed) but its report could not be sent: your login as deactivated-step cannot be renewed: The user of this login is deactivated or gone`,
    );
    expect(r.stderr).toContain(
      `  bldst build add-state ${user.build} --state 20 --status failed --worker test-worker --error 'exit code 7'`,
    );
  }, 60_000);
});

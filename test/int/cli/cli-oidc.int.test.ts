/**
 * The CLI signs in by itself in CI: a fake GitHub Actions token endpoint (and a token file) in front
 * of a local OIDC issuer, the real bldst binary, the real gateway. The exchanged token is cached
 * (mode 0600) and renewed before it expires during a run longer than its life.
 */
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BLDST_BIN, buildCli, cliRunner, ROOT } from '../../helpers/cli';
import { type LocalIssuer, startLocalIssuer } from '../../helpers/oidc-issuer';
import { ADMIN_ACTOR, startTestStack, type TestStack } from '../../helpers/stack';
import { runTool } from '../../helpers/tools';

let stack: TestStack;
let idp: LocalIssuer;
let github: Server;
let githubUrl: string;
const asked: { audience: string | null; authorization?: string }[] = [];

const AUDIENCE = 'bs-cli-test';
const JOB = { sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', ref: 'refs/heads/main' };
const cli = cliRunner(() => stack.url);

beforeAll(async () => {
  buildCli();
  [stack, idp] = await Promise.all([startTestStack(), startLocalIssuer()]);
  // GitHub's token endpoint: bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, ?audience= → {"value": jwt}.
  github = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    asked.push({ audience: url.searchParams.get('audience'), authorization: req.headers.authorization });
    if (
      req.headers.authorization !== 'bearer request-token' ||
      url.searchParams.get('api-version') !== '2.0'
    ) {
      res.writeHead(403).end('{"message":"bad request token"}');
      return;
    }
    void idp.sign(JOB, { audience: url.searchParams.get('audience') ?? '' }).then((value) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count: 1, value }));
    });
  });
  await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));
  githubUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}/token?api-version=2.0`;
  for (const [id, ttl] of [
    ['cli-gha', 60],
    ['cli-file', 900],
  ] as const) {
    const res = await stack.call('POST', '/trust-policies', {
      id,
      issuer: idp.issuer,
      audience: id === 'cli-gha' ? AUDIENCE : `${AUDIENCE}-file`,
      claims: { repository: 'acme/app' },
      scopes: ['write'],
      token_ttl_s: ttl,
    });
    expect(res.status).toBe(201);
  }
}, 120_000);
afterAll(() => Promise.all([stack.stop(), idp.stop(), new Promise((r) => github.close(r))]));

/** A CI job's environment: no key, an audience, GitHub's two variables. */
const ghaEnv = (extra: Record<string, string> = {}) => ({
  BUILDSTATE_API_TOKEN: '',
  BUILDSTATE_OIDC_AUDIENCE: AUDIENCE,
  ACTIONS_ID_TOKEN_REQUEST_URL: githubUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
  GITHUB_RUN_ID: '1001',
  ...extra,
});

describe('bldst keyless sign-in', () => {
  it('GitHub Actions: asks for the audience, exchanges, caches (0600) and reuses the token', async () => {
    const before = asked.length;
    const first = await cli.run(['auth', 'whoami', '-o', 'json'], { env: ghaEnv() });
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toMatchObject({ id: `oidc:cli-gha:${JOB.sub}`, type: 'oidc' });
    expect(asked.slice(before)).toEqual([{ audience: AUDIENCE, authorization: 'bearer request-token' }]);
    const cache = join(cli.home, 'config', 'bldst', 'oidc-session.json');
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect((await cli.run(['auth', 'whoami', '-o', 'json'], { env: ghaEnv() })).code).toBe(0);
    expect(asked.length).toBe(before + 1);
    // Another job on the same runner does not get this job's token.
    expect(
      (await cli.run(['auth', 'whoami', '-o', 'json'], { env: ghaEnv({ GITHUB_RUN_ID: '1002' }) })).code,
    ).toBe(0);
    expect(asked.length).toBe(before + 2);
  });

  it('says why when the CI token cannot be had or is refused (exit 5)', async () => {
    const noToken = await cli.run(['auth', 'whoami'], {
      env: ghaEnv({ ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong', GITHUB_RUN_ID: '2001' }),
    });
    expect(noToken.code).toBe(5);
    expect(noToken.stderr).toMatch(/GitHub Actions token endpoint answered HTTP 403/);
    const refused = await cli.run(['auth', 'whoami'], {
      env: ghaEnv({ BUILDSTATE_OIDC_AUDIENCE: 'nobody-trusts-this', GITHUB_RUN_ID: '2002' }),
    });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/OIDC token from GitHub Actions was refused: .*\(audience\)/);
  });

  it('--oidc without an audience is a usage error', async () => {
    const res = await cli.run(['--oidc', 'auth', 'whoami'], { env: { BUILDSTATE_API_TOKEN: '' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--oidc needs BUILDSTATE_OIDC_AUDIENCE/);
  });

  it('a token file (Concourse idtoken, Kubernetes projected token) is read for each exchange', async () => {
    const file = join(cli.home, 'job-token');
    writeFileSync(file, `${await idp.sign(JOB, { audience: `${AUDIENCE}-file` })}\n`);
    const res = await cli.run(['--oidc', 'auth', 'whoami', '-o', 'json'], {
      env: { BUILDSTATE_OIDC_AUDIENCE: `${AUDIENCE}-file`, BUILDSTATE_OIDC_TOKEN_FILE: file },
    });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toMatchObject({ id: `oidc:cli-file:${JOB.sub}` });
  });

  it('renews the token before it expires during a run longer than its life (60 s)', async () => {
    const build = await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' });
    expect(build.status).toBe(201);
    const before = asked.length;
    const res = await cli.run(
      ['run', '--build', build.body.id, '--state', '10', '--lease-ttl', '6', '--', 'sleep', '66'],
      { env: ghaEnv({ GITHUB_RUN_ID: '3001' }) },
    );
    expect(res.stderr).not.toMatch(/expired|refused/);
    expect(res.code).toBe(0);
    // One exchange at the start, one (or more) before the 60-second token ran out.
    expect(asked.length - before).toBeGreaterThanOrEqual(2);
    const history = (await stack.call('GET', `/builds/${build.body.id}/history`)).body.items as {
      actor: string;
    }[];
    // The admin created the build; every change of the run is the job's.
    expect(new Set(history.map((h) => h.actor))).toEqual(new Set([ADMIN_ACTOR, `oidc:cli-gha:${JOB.sub}`]));
    expect((await stack.call('GET', `/builds/${build.body.id}`)).body).toMatchObject({ current_state: 10 });
  }, 120_000);

  it("the GitHub Action's sign-in step: signs in, hands the URL and audience to later steps, outputs the actor", async () => {
    const bin = join(cli.home, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(BLDST_BIN, join(bin, 'bldst'));
    const githubEnv = join(cli.home, 'github-env');
    const githubOutput = join(cli.home, 'github-output');
    writeFileSync(githubEnv, '');
    writeFileSync(githubOutput, '');
    const script = join(ROOT, 'integrations', 'github-action', 'sign-in.sh');
    const env = {
      PATH: `${bin}:${process.env.PATH}`,
      XDG_CONFIG_HOME: join(cli.home, 'action-config'),
      GITHUB_ENV: githubEnv,
      GITHUB_OUTPUT: githubOutput,
      BUILDSTATE_API_URL: stack.url,
      ...ghaEnv({ GITHUB_RUN_ID: '4001' }),
    };
    const res = await runTool(script, [], { env });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(readFileSync(githubOutput, 'utf8')).toBe(`actor=oidc:cli-gha:${JOB.sub}\n`);
    expect(readFileSync(githubEnv, 'utf8')).toBe(
      `BUILDSTATE_API_URL=${stack.url}\nBUILDSTATE_OIDC_AUDIENCE=${AUDIENCE}\n`,
    );
    const { ACTIONS_ID_TOKEN_REQUEST_URL: _, ...withoutPermission } = env;
    const denied = await runTool(script, [], { env: withoutPermission });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/permissions: id-token: write/);
  });

  it('GitLab, the GCP metadata server and Azure managed identity, each with the audience asked for', async () => {
    const seen: string[] = [];
    const cloud = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const gcp =
        url.pathname === '/computeMetadata/v1/instance/service-accounts/default/identity' &&
        req.headers['metadata-flavor'] === 'Google' &&
        url.searchParams.get('format') === 'full';
      const azure =
        url.pathname === '/msi/token' &&
        req.headers['x-identity-header'] === 'identity-secret' &&
        url.searchParams.get('api-version') === '2019-08-01';
      const audience = url.searchParams.get(gcp ? 'audience' : 'resource') ?? '';
      seen.push(`${gcp ? 'gcp' : azure ? 'azure' : 'other'} ${audience}`);
      if (!gcp && !azure) {
        res.writeHead(404).end();
        return;
      }
      void idp.sign(JOB, { audience }).then((jwt) => {
        res.writeHead(200, { 'content-type': gcp ? 'text/html' : 'application/json' });
        res.end(gcp ? jwt : JSON.stringify({ access_token: jwt, token_type: 'Bearer' }));
      });
    });
    await new Promise<void>((resolve) => cloud.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(cloud.address() as AddressInfo).port}`;
    try {
      const whoami = (env: Record<string, string>) =>
        cli.run(['--oidc', 'auth', 'whoami', '-o', 'json'], {
          env: { BUILDSTATE_OIDC_AUDIENCE: `${AUDIENCE}-file`, ...env },
        });
      const gitlab = await whoami({
        BUILDSTATE_ID_TOKEN: await idp.sign(JOB, { audience: `${AUDIENCE}-file` }),
        CI_JOB_ID: '51',
      });
      expect(JSON.parse(gitlab.stdout)).toMatchObject({ id: `oidc:cli-file:${JOB.sub}` });
      const gcp = await whoami({ GCE_METADATA_HOST: host, CI_JOB_ID: '52' });
      expect(JSON.parse(gcp.stdout)).toMatchObject({ id: `oidc:cli-file:${JOB.sub}` });
      // No GCP here (its metadata host refuses): the Azure identity endpoint answers.
      const azure = await whoami({
        GCE_METADATA_HOST: '127.0.0.1:1',
        IDENTITY_ENDPOINT: `http://${host}/msi/token`,
        IDENTITY_HEADER: 'identity-secret',
        CI_JOB_ID: '53',
      });
      expect(azure.stderr).toBe('');
      expect(JSON.parse(azure.stdout)).toMatchObject({ id: `oidc:cli-file:${JOB.sub}` });
      expect(seen).toEqual([`gcp ${AUDIENCE}-file`, `azure ${AUDIENCE}-file`]);
    } finally {
      await new Promise((resolve) => cloud.close(resolve));
    }
  });
});

/**
 * Identity end to end: scopes on every route, API keys, users and JWTs, and SigV4 verified by the
 * local gateway (with the AWS SDK's signer and with curl --aws-sigv4).
 */
import { execFile } from 'node:child_process';
import { SignJWT } from 'jose';
import { createSigner } from '../../../cli/sigv4';
import { ENV } from '../../../lib/config/env';
import { ROUTES } from '../../../lib/http/routes';
import { responseChecker } from '../../helpers/openapi';
import { startTestStack, type TestStack } from '../../helpers/stack';

const AWS_ID = 'AKIALOCALTEST0000001';
const AWS_SECRET = 'local-test-secret-access-key-0000000000';
process.env[ENV.localAwsAccessKeyId] = AWS_ID;
process.env[ENV.localAwsSecretAccessKey] = AWS_SECRET;

let stack: TestStack;
const keys: Record<'read' | 'write' | 'admin', string> = { read: '', write: '', admin: '' };

beforeAll(async () => {
  stack = await startTestStack();
  for (const scope of ['read', 'write', 'admin'] as const) {
    const res = await stack.call('POST', '/api-keys', { name: `${scope} key`, scopes: [scope] });
    expect(res.status).toBe(201);
    keys[scope] = res.body.secret;
  }
});
afterAll(() => stack.stop());

const as = (secret: string | null) => (secret === null ? { 'x-api-key': '' } : { 'x-api-key': secret });
const RANK = { none: 0, read: 1, write: 2, admin: 3 } as const;

describe('scopes: every route × {no credentials, read, write, admin}', () => {
  const cases = ROUTES.flatMap((route) =>
    (['none', 'read', 'write', 'admin'] as const).map((caller) => ({ route, caller })),
  );
  it.each(cases)('$route.method $route.path as $caller', async ({ route, caller }) => {
    const path = route.path.replace(/\{code\}/g, '5').replace(/\{\w+\}/g, 'matrix-probe');
    const res = await stack.call(
      route.method,
      path,
      route.method === 'GET' ? undefined : {},
      as(caller === 'none' ? null : keys[caller]),
    );
    if (route.scope === 'none') {
      expect([401, 403]).not.toContain(res.status);
    } else if (caller === 'none') {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    } else if (RANK[caller] < RANK[route.scope]) {
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'forbidden', details: { required_scope: route.scope } });
    } else {
      expect([401, 403]).not.toContain(res.status);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('API keys', () => {
  it('shows the secret once, with its prefix; lists keys without secrets, with last_used_at', async () => {
    const created = await stack.call('POST', '/api-keys', {
      name: 'packer pool',
      scopes: ['write'],
      expires_at: '2099-01-01T00:00:00Z',
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^bst_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^ak_[0-9a-f]{16}$/),
      scopes: ['write', 'read'],
      last_used_at: null,
      created_by: expect.stringMatching(/^key:ak_/),
    });
    expect(created.headers.get('location')).toBe(`/api-keys/${created.body.id}`);

    expect((await stack.call('GET', '/whoami', undefined, as(created.body.secret))).body).toMatchObject({
      id: `key:${created.body.id}`,
      name: 'packer pool',
    });
    const list = await stack.call('GET', '/api-keys');
    const listed = (list.body.items as Record<string, unknown>[]).find((k) => k.id === created.body.id)!;
    expect(listed.last_used_at).toEqual(expect.any(String));
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect(listed).not.toHaveProperty('secret');
    expect(listed).not.toHaveProperty('secret_hash');
  });

  it('rejects a revoked key on the very next request', async () => {
    const created = await stack.call('POST', '/api-keys', { name: 'short-lived', scopes: ['read'] });
    expect((await stack.call('GET', '/builds', undefined, as(created.body.secret))).status).toBe(200);
    const revoked = await stack.call('DELETE', `/api-keys/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ active: false, revoked_at: expect.any(String) });
    const after = await stack.call('GET', '/builds', undefined, as(created.body.secret));
    expect(after.status).toBe(401);
    expect(after.body.error.message).toMatch(/revoked/);
    const ids = (await stack.call('GET', '/api-keys')).body.items.map((k: { id: string }) => k.id);
    expect(ids).not.toContain(created.body.id);
    const all = (await stack.call('GET', '/api-keys?include_revoked=true')).body.items;
    expect(all.map((k: { id: string }) => k.id)).toContain(created.body.id);
  });

  it('rejects bad key requests with 400 and unknown ids with 404', async () => {
    const bad = await stack.call('POST', '/api-keys', { name: 'x', scopes: ['root'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/scopes/);
    const past = await stack.call('POST', '/api-keys', {
      name: 'x',
      scopes: ['read'],
      expires_at: '2001-01-01T00:00:00Z',
    });
    expect(past.status).toBe(400);
    expect((await stack.call('DELETE', '/api-keys/ak_0000000000000000')).status).toBe(404);
  });

  it('refuses an expired key', async () => {
    const created = await stack.call('POST', '/api-keys', {
      name: 'expiring',
      scopes: ['read'],
      expires_at: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await stack.call('GET', '/whoami', undefined, as(created.body.secret))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const res = await stack.call('GET', '/whoami', undefined, as(created.body.secret));
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired/);
  });
});

describe('users and JWTs', () => {
  const secret = () => new TextEncoder().encode(process.env[ENV.jwtSecret]!);
  const bearer = (token: string) => ({ 'x-api-key': '', authorization: `Bearer ${token}` });
  const login = (username: string, password: string, extra = {}) =>
    stack.call('POST', '/auth/token', { username, password, ...extra }, { 'x-api-key': '' });

  beforeAll(async () => {
    const alice = await stack.call('POST', '/users', {
      username: 'alice',
      email: 'alice@example.com',
      password: 'correct horse battery',
      scopes: ['write'],
    });
    expect(alice.status).toBe(201);
    expect(alice.body).not.toHaveProperty('password_hash');
    await stack.call('POST', '/users', {
      username: 'rita',
      email: 'rita@example.com',
      password: 'read only password',
      scopes: ['read'],
    });
  });

  it('exchanges a password for a short-lived JWT accepted everywhere a key is; actor is the user', async () => {
    const res = await login('alice', 'correct horse battery');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'write read' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    const token = res.body.access_token as string;
    expect((await stack.call('GET', '/whoami', undefined, bearer(token))).body).toMatchObject({
      id: 'user:alice',
      type: 'user',
      scopes: ['write', 'read'],
    });
    const build = await stack.call(
      'POST',
      '/builds',
      { platform_id: 'aws', image_type_id: 'rhel9' },
      bearer(token),
    );
    expect(build.status).toBe(201);
    expect(build.body.created_by).toBe('user:alice');
    const history = await stack.call('GET', `/builds/${build.body.id}/history`);
    expect(history.body.items[0].actor).toBe('user:alice');
    expect(
      (await stack.call('POST', '/api-keys', { name: 'n', scopes: ['read'] }, bearer(token))).status,
    ).toBe(403);
    // ttl_s is capped at an hour by the schema.
    expect((await login('alice', 'correct horse battery', { ttl_s: 7200 })).status).toBe(400);
  });

  it('answers a wrong password and an unknown user alike: 401', async () => {
    const wrong = await login('alice', 'not the password');
    const unknown = await login('nobody', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('limits a read user to reads', async () => {
    const token = (await login('rita', 'read only password')).body.access_token;
    expect((await stack.call('GET', '/builds', undefined, bearer(token))).status).toBe(200);
    const denied = await stack.call(
      'POST',
      '/builds',
      { platform_id: 'aws', image_type_id: 'rhel9' },
      bearer(token),
    );
    expect(denied.status).toBe(403);
  });

  it('rejects tampered, expired, wrong-audience, wrong-issuer and alg:none tokens', async () => {
    const good = (await login('rita', 'read only password')).body.access_token as string;
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...payload, scope: 'admin write read' })).toString(
      'base64url',
    );
    const sign = (
      claims: Record<string, unknown>,
      aud = 'buildstate-api',
      iss = 'buildstate',
      exp: number | string = '10m',
    ) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject('rita')
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(secret());
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    const rejected = {
      tampered: `${h}.${forged}.${s}`,
      expired: await sign(
        { scope: 'read' },
        'buildstate-api',
        'buildstate',
        Math.floor(Date.now() / 1000) - 60,
      ),
      wrongAudience: await sign({ scope: 'read' }, 'someone-else'),
      wrongIssuer: await sign({ scope: 'read' }, 'buildstate-api', 'evil'),
      algNone: none,
      garbage: 'not-a-jwt',
    };
    // The control: the same signer with the right claims is accepted.
    expect(
      (await stack.call('GET', '/whoami', undefined, bearer(await sign({ scope: 'read' })))).status,
    ).toBe(200);
    for (const [name, token] of Object.entries(rejected)) {
      const res = await stack.call('GET', '/whoami', undefined, bearer(token));
      expect({ name, status: res.status, code: res.body.error?.code }).toEqual({
        name,
        status: 401,
        code: 'unauthorized',
      });
    }
    const expired = await stack.call('GET', '/whoami', undefined, bearer(rejected.expired));
    expect(expired.body.error.message).toMatch(/expired/);
  });

  it("stops a deactivated user's tokens at once and keeps the user listed on request", async () => {
    await stack.call('POST', '/users', {
      username: 'leaver',
      email: 'leaver@example.com',
      password: 'leaving password',
      scopes: ['read'],
    });
    const token = (await login('leaver', 'leaving password')).body.access_token;
    expect((await stack.call('GET', '/whoami', undefined, bearer(token))).status).toBe(200);
    const del = await stack.call('DELETE', '/users/leaver');
    expect(del.body).toMatchObject({ active: false, deactivated_at: expect.any(String) });
    expect((await stack.call('GET', '/whoami', undefined, bearer(token))).status).toBe(401);
    expect((await login('leaver', 'leaving password')).status).toBe(401);
    const active = (await stack.call('GET', '/users')).body.items.map(
      (u: { username: string }) => u.username,
    );
    expect(active).not.toContain('leaver');
    const all = (await stack.call('GET', '/users?include_deactivated=true')).body.items;
    expect(all.map((u: { username: string }) => u.username)).toContain('leaver');
    expect(JSON.stringify(all)).not.toMatch(/scrypt|password/);
    expect(
      (
        await stack.call('POST', '/users', {
          username: 'leaver',
          email: 'x@example.com',
          password: 'another password',
          scopes: ['read'],
        })
      ).status,
    ).toBe(409);
  });
});

describe("a user's API tokens (keys with an owner)", () => {
  beforeAll(async () => {
    for (const [username, scope] of [
      ['builder', 'write'],
      ['viewer', 'read'],
    ] as const) {
      const res = await stack.call('POST', '/users', {
        username,
        email: `${username}@example.com`,
        password: `${username} password long`,
        scopes: [scope],
      });
      expect(res.status).toBe(201);
    }
  });

  it("takes the user's scopes by default and refuses wider ones", async () => {
    const token = await stack.call('POST', '/api-keys', { name: 'Build pipeline token', owner: 'builder' });
    expect(token.status).toBe(201);
    expect(token.body).toMatchObject({ owner: 'builder', scopes: ['write', 'read'] });
    const me = await stack.call('GET', '/whoami', undefined, as(token.body.secret));
    expect(me.body).toMatchObject({ type: 'api_key', name: 'builder: Build pipeline token' });
    const wider = await stack.call('POST', '/api-keys', { name: 'x', owner: 'viewer', scopes: ['write'] });
    expect([wider.status, wider.body.error.details]).toEqual([400, { field: 'scopes', allowed: ['read'] }]);
    const nobody = await stack.call('POST', '/api-keys', { name: 'x', owner: 'nobody' });
    expect([nobody.status, nobody.body.error.details]).toEqual([400, { field: 'owner' }]);
    const noScopes = await stack.call('POST', '/api-keys', { name: 'x' });
    expect(noScopes.status).toBe(400);
    const listed = (await stack.call('GET', '/api-keys?owner=builder')).body.items;
    expect(listed.map((k: { id: string }) => k.id)).toEqual([token.body.id]);
  });

  it('stops working when its user is deactivated', async () => {
    const token = (await stack.call('POST', '/api-keys', { name: 'viewer token', owner: 'viewer' })).body;
    expect((await stack.call('GET', '/builds', undefined, as(token.secret))).status).toBe(200);
    expect((await stack.call('POST', '/builds', { platform_id: 'aws' }, as(token.secret))).status).toBe(403);
    expect((await stack.call('DELETE', '/users/viewer')).status).toBe(200);
    const after = await stack.call('GET', '/builds', undefined, as(token.secret));
    expect([after.status, after.body.error.message]).toEqual([
      401,
      "The user of this API token ('viewer') is deactivated or gone",
    ]);
  });
});

describe('SigV4 against the local gateway', () => {
  const sign = createSigner(async () => ({ accessKeyId: AWS_ID, secretAccessKey: AWS_SECRET }));
  const signed = async (
    method: string,
    path: string,
    body: string | undefined,
    opts: { secret?: string; when?: Date; sendBody?: string } = {},
  ) => {
    const signer = opts.secret
      ? createSigner(async () => ({ accessKeyId: AWS_ID, secretAccessKey: opts.secret! }))
      : sign;
    const url = `${stack.url}${path}`;
    const headers = await signer(
      method,
      url,
      body ? { 'content-type': 'application/json' } : {},
      body,
      opts.when,
    );
    delete headers.host;
    const res = await fetch(url, { method, headers, body: opts.sendBody ?? body });
    const json = (await res.json()) as Record<string, any>;
    responseChecker().check(method, path, res.status, res.headers.get('content-type'), json);
    return { status: res.status, body: json };
  };

  it('accepts a correct signature as a write principal named by the access key', async () => {
    const who = await signed('GET', '/whoami?probe=1', undefined);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ type: 'iam', id: `iam:arn:aws:iam::000000000000:user/${AWS_ID}` });
    const body = JSON.stringify({ platform_id: 'aws', image_type_id: 'rhel9' });
    const created = await signed('POST', '/builds', body);
    expect(created.status).toBe(201);
    expect(created.body.created_by).toBe(`iam:arn:aws:iam::000000000000:user/${AWS_ID}`);
    expect((await signed('GET', '/api-keys', undefined)).status).toBe(403);
  });

  it('rejects a wrong secret, a stale date and a modified body', async () => {
    const body = JSON.stringify({ platform_id: 'aws', image_type_id: 'rhel9' });
    const wrong = await signed('POST', '/builds', body, { secret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toMatch(/signature we calculated does not match/);
    const stale = await signed('GET', '/whoami', undefined, { when: new Date(Date.now() - 6 * 60_000) });
    expect(stale.status).toBe(401);
    expect(stale.body.error.message).toMatch(/5 minutes/);
    const tampered = await signed('POST', '/builds', body, {
      sendBody: JSON.stringify({ platform_id: 'gcp', image_type_id: 'rhel9' }),
    });
    expect(tampered.status).toBe(401);
    const builds = await stack.call('GET', '/builds?platform_id=gcp');
    expect(builds.body.items.filter((b: { created_by: string }) => b.created_by.startsWith('iam:'))).toEqual(
      [],
    );
  });

  it('works with curl --aws-sigv4, exactly as documented', async () => {
    const curl = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        // Async: the gateway answering it runs in this process.
        execFile('curl', ['-s', '-w', '\n%{http_code}', ...args], (error, stdout) =>
          resolve({ code: error ? 1 : 0, out: stdout }),
        ),
      );
    const ok = await curl([
      '--aws-sigv4',
      'aws:amz:us-east-1:execute-api',
      '--user',
      `${AWS_ID}:${AWS_SECRET}`,
      '-H',
      'content-type: application/json',
      '-d',
      '{"platform_id":"aws","image_type_id":"rhel9"}',
      `${stack.url}/builds`,
    ]);
    const [json, status] = ok.out.trim().split(/\n+/);
    expect(status).toBe('201');
    expect(JSON.parse(json!).created_by).toBe(`iam:arn:aws:iam::000000000000:user/${AWS_ID}`);
    const bad = await curl([
      '--aws-sigv4',
      'aws:amz:us-east-1:execute-api',
      '--user',
      `${AWS_ID}:wrong`,
      `${stack.url}/whoami`,
    ]);
    expect(bad.out.trim().split('\n').pop()).toBe('401');
  });

  it('refuses a correct signature scoped to another region', async () => {
    const curl = (region: string) =>
      new Promise<string>((resolve) =>
        execFile(
          'curl',
          [
            '-s',
            '--aws-sigv4',
            `aws:amz:${region}:execute-api`,
            '--user',
            `${AWS_ID}:${AWS_SECRET}`,
            `${stack.url}/whoami`,
          ],
          (_, stdout) => resolve(stdout),
        ),
      );
    const other = JSON.parse(await curl('eu-west-1'));
    expect(other.error).toMatchObject({ code: 'unauthorized' });
    expect(other.error.message).toMatch(/region, not 'eu-west-1'; this API is in 'us-east-1'/);
    expect(JSON.parse(await curl('us-east-1')).type).toBe('iam');
    // The SDK's signer too: the same request signed for eu-west-1 is refused before any handler runs.
    const elsewhere = createSigner(
      async () => ({ accessKeyId: AWS_ID, secretAccessKey: AWS_SECRET }),
      'eu-west-1',
    );
    const body = JSON.stringify({ platform_id: 'aws', image_type_id: 'rhel9', id: 'sigv4-other-region' });
    const url = `${stack.url}/builds`;
    const headers = await elsewhere('POST', url, { 'content-type': 'application/json' }, body);
    delete headers.host;
    const created = await fetch(url, { method: 'POST', headers, body });
    expect(created.status).toBe(401);
    expect(((await created.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await stack.call('GET', '/builds/sigv4-other-region')).status).toBe(404);
  });
});

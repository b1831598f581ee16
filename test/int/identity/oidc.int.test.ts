/**
 * Keyless sign-in from CI against a local OIDC issuer (keys made at run time, discovery and JWKS on
 * loopback, JWKS fetches counted): trust policies through the API, the exchange and every way a
 * token is refused, and the issuer's key cache (rotation, outage, a storm of made-up kids).
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { db, runtimeConfig } from '../../../lib/compose/store';
import { IssuerKeys } from '../../../lib/oidc/issuer-keys';
import { TrustPolicyRepository } from '../../../lib/oidc/trust-policy.repository';
import { TrustPolicyService } from '../../../lib/oidc/trust-policy.service';
import { type LocalIssuer, startLocalIssuer } from '../../helpers/oidc-issuer';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
let idp: LocalIssuer;
let stranger: LocalIssuer;

const AUDIENCE = 'buildstate-test';
const JOB = {
  sub: 'repo:acme/app:ref:refs/heads/main',
  repository: 'acme/app',
  repository_owner_id: '4242',
  ref: 'refs/heads/main',
};

beforeAll(async () => {
  [stack, idp, stranger] = await Promise.all([startTestStack(), startLocalIssuer(), startLocalIssuer()]);
  const created = await stack.call('POST', '/trust-policies', {
    id: 'acme-main',
    issuer: idp.issuer,
    audience: AUDIENCE,
    claims: { repository_owner_id: '4242', ref: { glob: 'refs/heads/ma*' } },
    scopes: ['write'],
    token_ttl_s: 600,
  });
  expect(created.status).toBe(201);
});
afterAll(() => Promise.all([stack.stop(), idp.stop(), stranger.stop()]));

const anonymous = { 'x-api-key': '' };
const exchange = (token: string) => stack.call('POST', '/auth/oidc', { token }, anonymous);
const bearer = (token: string) => ({ ...anonymous, authorization: `Bearer ${token}` });
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The answer to a refused token: its status and reason, and that the token is not echoed. */
async function refusal(token: string) {
  const res = await exchange(token);
  expect(JSON.stringify(res.body)).not.toContain(token);
  return `${res.status} ${res.body.error?.details?.reason}`;
}

describe('POST /auth/oidc', () => {
  it('a good token → a BuildState token of the policy; history records oidc:<policy>:<sub>', async () => {
    const res = await exchange(await idp.sign(JOB));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 600,
      scopes: ['write', 'read'],
      policy: 'acme-main',
    });
    const who = await stack.call('GET', '/whoami', undefined, bearer(res.body.access_token));
    expect(who.body).toMatchObject({
      id: `oidc:acme-main:${JOB.sub}`,
      type: 'oidc',
      scopes: ['write', 'read'],
    });
    const build = await stack.call(
      'POST',
      '/builds',
      { platform_id: 'aws', image_type_id: 'rhel9' },
      bearer(res.body.access_token),
    );
    expect(build.status).toBe(201);
    const history = await stack.call('GET', `/builds/${build.body.id}/history`);
    expect(history.body.items[0].actor).toBe(`oidc:acme-main:${JOB.sub}`);
    // write, not admin: the policy's scopes are all the token gets.
    expect(
      (await stack.call('GET', '/trust-policies', undefined, bearer(res.body.access_token))).status,
    ).toBe(403);
  });

  it('refuses a token for another audience (401 audience)', async () => {
    expect(await refusal(await idp.sign(JOB, { audience: 'https://github.com/acme' }))).toBe('401 audience');
  });

  it('answers 403 when the token is valid but no policy binds its claims', async () => {
    const res = await exchange(await idp.sign({ ...JOB, repository_owner_id: '999' }));
    expect(res.status).toBe(403);
    expect(res.body.error.details).toMatchObject({ reason: 'no_matching_policy', sub: JOB.sub });
    expect((await exchange(await idp.sign({ ...JOB, ref: 'refs/heads/feature' }))).status).toBe(403);
    const { repository_owner_id: _, ...noOwner } = JOB;
    expect((await exchange(await idp.sign(noOwner))).status).toBe(403);
  });

  it('refuses expired and not-yet-valid tokens, beyond the 60 s leeway', async () => {
    expect(await refusal(await idp.sign(JOB, { expiresIn: -120 }))).toBe('401 expired');
    expect((await exchange(await idp.sign(JOB, { expiresIn: -30 }))).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(await idp.sign(JOB, { notBefore: now + 300 }))).toBe('401 not_yet_valid');
    expect(await refusal(await idp.sign(JOB, { issuedAt: now + 300 }))).toBe('401 issued_in_future');
  });

  it('refuses alg none', async () => {
    const good = await idp.sign(JOB);
    const payload = good.split('.')[1]!;
    expect(await refusal(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`)).toBe('401 algorithm');
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const payload = (await idp.sign(JOB)).split('.')[1]!;
    const jwk = idp.publicJwk('k1');
    for (const secret of [
      JSON.stringify(jwk),
      createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString(),
    ]) {
      const head = b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
      const sig = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
      expect(await refusal(`${head}.${payload}.${sig}`)).toBe('401 algorithm');
    }
  });

  it('refuses another key under the same kid (401 signature)', async () => {
    expect(await refusal(await idp.sign(JOB, { kid: 'k1', key: await idp.foreignKey() }))).toBe(
      '401 signature',
    );
  });

  it('refuses an unknown issuer without contacting it', async () => {
    expect(await refusal(await stranger.sign(JOB))).toBe('401 unknown_issuer');
    // A token claiming the trusted issuer but signed by another's key fails the signature.
    expect(await refusal(await stranger.sign(JOB, { issuer: idp.issuer, kid: 'k1' }))).toBe('401 signature');
    expect(stranger.jwksFetches()).toBe(0);
  });

  it('a storm of tokens with made-up kids costs at most one JWKS fetch', async () => {
    await exchange(await idp.sign(JOB));
    const before = idp.jwksFetches();
    const tokens = await Promise.all(
      Array.from({ length: 30 }, (_, i) => idp.sign(JOB, { kid: `made-up-${i}`, key: undefined })),
    );
    const answers = await Promise.all(tokens.map((t) => refusal(t)));
    expect(new Set(answers)).toEqual(new Set(['401 unknown_key']));
    expect(idp.jwksFetches() - before).toBeLessThanOrEqual(1);
  });

  it('keeps verifying with the cached keys while the JWKS endpoint is down', async () => {
    idp.setJwksDown(true);
    try {
      expect((await exchange(await idp.sign(JOB))).status).toBe(200);
    } finally {
      idp.setJwksDown(false);
    }
  });

  it('a deleted policy stops matching, and the tokens it issued stop working', async () => {
    const created = await stack.call('POST', '/trust-policies', {
      id: 'acme-short',
      issuer: idp.issuer,
      audience: 'short-lived',
      claims: { repository: 'acme/app' },
      scopes: ['read'],
    });
    expect(created.status).toBe(201);
    const token = (await exchange(await idp.sign(JOB, { audience: 'short-lived' }))).body.access_token;
    expect((await stack.call('GET', '/whoami', undefined, bearer(token))).status).toBe(200);
    const deleted = await stack.call('DELETE', '/trust-policies/acme-short');
    expect(deleted.body).toMatchObject({ active: false, deleted_by: expect.stringMatching(/^key:/) });
    expect((await stack.call('GET', '/whoami', undefined, bearer(token))).status).toBe(401);
    expect(await refusal(await idp.sign(JOB, { audience: 'short-lived' }))).toBe('401 audience');
  });
});

describe('trust policies (admin)', () => {
  const policy = (fields: Record<string, unknown>) => ({
    id: 'p-probe',
    issuer: 'https://token.actions.githubusercontent.com',
    audience: 'https://buildstate.example.com',
    claims: { repository_owner_id: '4242' },
    scopes: ['write'],
    ...fields,
  });
  const refusedFor = async (fields: Record<string, unknown>) => {
    const res = await stack.call('POST', '/trust-policies', policy(fields));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    return res.body.error.message as string;
  };

  it.each([
    ['no claim condition', { claims: {} }, /at least one claim condition/],
    [
      'a glob that matches everything',
      { claims: { repository_owner_id: '1', ref: { glob: '**' } } },
      /matches every value/,
    ],
    [
      'a glob of only wildcards',
      { claims: { repository_owner_id: '1', sub: { glob: '?*' } } },
      /matches every value/,
    ],
    ['GitHub without a tenant claim', { claims: { ref: 'refs/heads/main' } }, /shared by every customer/],
    [
      'GitHub with a repository glob open in the owner',
      { claims: { repository: { glob: '*/app' } } },
      /shared/,
    ],
    ['GitHub with a sub glob open in the owner', { claims: { sub: { glob: 'repo:*' } } }, /shared/],
    [
      'GitLab.com without a tenant claim',
      { issuer: 'https://gitlab.com', claims: { ref: 'main' } },
      /GitLab/,
    ],
    [
      'Buildkite without the organisation',
      { issuer: 'https://agent.buildkite.com', claims: { pipeline_slug: 'p' } },
      /organization_slug/,
    ],
    [
      'CircleCI without the org id in the issuer',
      { issuer: 'https://oidc.circleci.com', claims: { 'oidc.circleci.com/project-id': 'x' } },
      /org-id/,
    ],
    ['an http issuer off loopback', { issuer: 'http://idp.example.com', claims: { sub: 'x' } }, /https/],
    ["another service's audience", { audience: 'sts.amazonaws.com' }, /another service/],
  ])('refuses %s', async (_name, fields, message) => {
    expect(await refusedFor(fields)).toMatch(message);
  });

  it('accepts tenant-bound policies of each shared issuer, and lists, reads and soft-deletes them', async () => {
    const good = [
      policy({ id: 'gh-owner' }),
      policy({ id: 'gh-repo', claims: { repository: { glob: 'acme/*' }, ref: 'refs/heads/main' } }),
      policy({ id: 'gl', issuer: 'https://gitlab.com', claims: { project_path: 'acme/app' } }),
      policy({ id: 'bk', issuer: 'https://agent.buildkite.com', claims: { organization_slug: 'acme' } }),
      policy({
        id: 'circle',
        issuer: 'https://oidc.circleci.com/org/2f6f3c62-7d0e-4a1f-9b4e-0f1d2c3b4a59',
        claims: { 'oidc.circleci.com/project-id': '6e1a8f5e-3b5e-4d47-9a1b-0c2d3e4f5a6b' },
      }),
    ];
    for (const p of good) {
      const res = await stack.call('POST', '/trust-policies', p);
      expect([p.id, res.status, res.body.error?.message]).toEqual([p.id, 201, undefined]);
    }
    expect((await stack.call('POST', '/trust-policies', good[0])).status).toBe(409);
    const one = await stack.call('GET', '/trust-policies/circle');
    expect(one.body).toMatchObject({ active: true, claims: good[4]!.claims, token_ttl_s: null });
    expect((await stack.call('DELETE', '/trust-policies/gl')).status).toBe(200);
    const ids = (q: string) =>
      stack.call('GET', `/trust-policies${q}`).then((r) => r.body.items.map((p: { id: string }) => p.id));
    expect(await ids('')).not.toContain('gl');
    expect(await ids('?include_deleted=true')).toContain('gl');
    expect((await stack.call('GET', '/trust-policies/gl')).body.active).toBe(false);
    expect((await stack.call('GET', '/trust-policies/none-such')).status).toBe(404);
    expect((await stack.call('DELETE', '/trust-policies/none-such')).status).toBe(404);
  });
});

describe('issuer keys: rotation and expiry', () => {
  const service = (keys: IssuerKeys) =>
    new TrustPolicyService(
      new TrustPolicyRepository(db(), runtimeConfig().tableName),
      keys,
      async (subject, scopes, ttl) => ({
        access_token: subject,
        token_type: 'Bearer',
        expires_in: ttl ?? 900,
        expires_at: new Date().toISOString(),
        scope: scopes.join(' '),
      }),
    );

  it('a new kid after the cooldown triggers exactly one refetch', async () => {
    const own = await startLocalIssuer();
    try {
      expect(
        (
          await stack.call('POST', '/trust-policies', {
            id: 'rotating',
            issuer: own.issuer,
            audience: AUDIENCE,
            claims: { repository: 'acme/app' },
            scopes: ['read'],
          })
        ).status,
      ).toBe(201);
      const oidc = service(new IssuerKeys({ cooldownMs: 200 }));
      await oidc.exchange(await own.sign(JOB));
      expect(own.jwksFetches()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await own.rotate('k2');
      expect((await oidc.exchange(await own.sign(JOB))).policy).toBe('rotating');
      expect(own.jwksFetches()).toBe(2);
      // The old key is still published: tokens signed before the rotation keep working.
      await oidc.exchange(await own.sign(JOB, { kid: 'k1' }));
      expect(own.jwksFetches()).toBe(2);
    } finally {
      await own.stop();
    }
  });

  it('stale cached keys keep verifying when the refetch fails', async () => {
    const oidc = service(new IssuerKeys({ cacheMaxAgeMs: 1 }));
    await oidc.exchange(await idp.sign(JOB));
    idp.setJwksDown(true);
    try {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await oidc.exchange(await idp.sign(JOB))).policy).toBe('acme-main');
    } finally {
      idp.setJwksDown(false);
    }
  });

  it('an issuer that cannot be reached is an outage (503), not a bad token', async () => {
    const gone = await startLocalIssuer();
    await gone.stop();
    expect(
      (
        await stack.call('POST', '/trust-policies', {
          id: 'gone',
          issuer: gone.issuer,
          audience: AUDIENCE,
          claims: { repository: 'acme/app' },
          scopes: ['read'],
        })
      ).status,
    ).toBe(201);
    const res = await exchange(await gone.sign(JOB));
    expect(res.status).toBe(503);
    expect(res.body.error.details).toMatchObject({ reason: 'issuer_unreachable' });
  });
});

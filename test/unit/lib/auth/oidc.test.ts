/**
 * External identity provider tokens against a JWKS served on loopback: accepted with their scopes,
 * refused (401) when forged, foreign or expired, and 503 (not 500, not 401) when the keys cannot
 * be fetched.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { TokenService } from '../../../../lib/auth/token.service';
import type { UserService } from '../../../../lib/auth/user.service';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'buildstate-api';

let server: Server;
let jwksUrl: string;
let jwks: { keys: JWK[] } = { keys: [] };
let signingKey: PrivateKey;
let otherKey: PrivateKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const service = (url = jwksUrl) =>
  new TokenService({
    users: {} as UserService,
    secret: async () => new TextEncoder().encode('x'.repeat(32)),
    ttlSeconds: 900,
    oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: url, scopesClaim: 'scope' },
  });

const token = (
  o: { key?: PrivateKey; kid?: string; audience?: string; exp?: number | string } = {},
): Promise<string> =>
  new SignJWT({ scope: 'buildstate:write', email: 'ops@example.test' })
    .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'k1' })
    .setIssuer(ISSUER)
    .setAudience(o.audience ?? AUDIENCE)
    .setSubject('u-123')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(o.key ?? signingKey);

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (p) => p,
    (e: { code?: string; status?: number }) => `${e.status} ${e.code}`,
  );

it('accepts a token signed by the provider, with its scopes', async () => {
  expect(await service().authenticate(await token())).toEqual({
    id: 'oidc:u-123',
    type: 'user',
    name: 'ops@example.test',
    scopes: ['write', 'read'],
  });
});

it('refuses forged, foreign and expired tokens with 401', async () => {
  const s = service();
  expect(await outcome(s.authenticate(await token({ key: otherKey })))).toBe('401 unauthorized');
  expect(await outcome(s.authenticate(await token({ kid: 'unknown-kid' })))).toBe('401 unauthorized');
  expect(await outcome(s.authenticate(await token({ audience: 'another-api' })))).toBe('401 unauthorized');
  expect(await outcome(s.authenticate(await token({ exp: Math.floor(Date.now() / 1000) - 60 })))).toBe(
    '401 unauthorized',
  );
});

it('answers 503 when the provider keys cannot be fetched', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const down = service(`http://127.0.0.1:${port}/jwks.json`);
  expect(await outcome(down.authenticate(await token()))).toBe('503 unavailable');

  jwks = { keys: 'not a key set' } as never;
  expect(await outcome(service().authenticate(await token()))).toBe('503 unavailable');
});

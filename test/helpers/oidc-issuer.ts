/**
 * A local OIDC issuer for tests: keys generated at run time, discovery and JWKS on 127.0.0.1 (a
 * random port), JWKS fetches counted, the JWKS endpoint can be taken down and keys rotated.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface LocalIssuer {
  issuer: string;
  /** How many times the JWKS was served. */
  jwksFetches: () => number;
  /** While down, the JWKS endpoint answers 503. */
  setJwksDown: (down: boolean) => void;
  /** Publishes a new key under a new kid (the old one stays published) and signs with it from now on. */
  rotate: (kid: string) => Promise<void>;
  sign: (claims: JWTPayload, options?: SignOptions) => Promise<string>;
  /** A key pair that is not published (for "another key under the same kid"). */
  foreignKey: () => Promise<PrivateKey>;
  /** The published public key of a kid, as a JWK (for the HS256-with-the-public-key attack). */
  publicJwk: (kid?: string) => JWK;
  stop: () => Promise<void>;
}

export interface SignOptions {
  kid?: string;
  key?: PrivateKey;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  issuedAt?: number;
  notBefore?: number;
  issuer?: string;
}

export async function startLocalIssuer(): Promise<LocalIssuer> {
  const keys = new Map<string, { privateKey: PrivateKey; jwk: JWK }>();
  let currentKid = 'k1';
  let fetches = 0;
  let down = false;
  const addKey = async (kid: string) => {
    const pair = await generateKeyPair('ES256');
    keys.set(kid, {
      privateKey: pair.privateKey,
      jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' },
    });
  };
  await addKey(currentKid);
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/jwks`,
          id_token_signing_alg_values_supported: ['ES256'],
        }),
      );
      return;
    }
    if (req.url === '/jwks') {
      if (down) {
        res.writeHead(503).end();
        return;
      }
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [...keys.values()].map((k) => k.jwk) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksFetches: () => fetches,
    setJwksDown: (value) => {
      down = value;
    },
    rotate: async (kid) => {
      await addKey(kid);
      currentKid = kid;
    },
    sign: (claims, o = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const kid = o.kid ?? currentKid;
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuer(o.issuer ?? issuer)
        .setAudience(o.audience ?? 'buildstate-test')
        .setIssuedAt(o.issuedAt ?? now)
        .setExpirationTime(now + (o.expiresIn ?? 300));
      if (o.notBefore !== undefined) jwt.setNotBefore(o.notBefore);
      return jwt.sign(o.key ?? keys.get(kid)?.privateKey ?? keys.get(currentKid)!.privateKey);
    },
    foreignKey: async () => (await generateKeyPair('ES256')).privateKey,
    publicJwk: (kid = 'k1') => keys.get(kid)!.jwk,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

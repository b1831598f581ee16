/**
 * Bearer tokens. BuildState issues short-lived HS256 JWTs to users (POST /auth/token) and, when
 * configured, also accepts tokens of an external identity provider verified against its JWKS.
 * Every verification pins the algorithms, the issuer and the audience; `alg: none` never passes.
 */
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../errors';
import { normaliseScopes } from './api-key.service';
import type { LoginThrottle } from './login-throttle';
import { type Principal, SCOPES, type Scope } from './principal';
import type { RefreshTokenService } from './refresh-token.service';
import type { UserRecord } from './user.repository';
import type { UserService } from './user.service';

export const TOKEN_ISSUER = 'buildstate';
export const TOKEN_AUDIENCE = 'buildstate-api';
export const MAX_TOKEN_TTL_S = 3600;

export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** The claim holding scopes: a space-separated string or an array (default `scope`). */
  scopesClaim: string;
}

export interface TokenServiceDeps {
  users: UserService;
  /** The HMAC secret, resolved lazily (env locally, Secrets Manager in AWS). */
  secret: () => Promise<Uint8Array>;
  ttlSeconds: number;
  oidc?: OidcConfig;
  now?: () => Date;
  /** Locks a username out after repeated wrong passwords (lib/auth/login-throttle.ts). */
  throttle?: LoginThrottle;
  /** With it, a login also gets a refresh token (lib/auth/refresh-token.service.ts). */
  refresh?: RefreshTokenService;
  /** Whether the trust policy a token was exchanged under still stands (lib/oidc); absent: none do. */
  trustPolicyActive?: (id: string) => Promise<boolean>;
}

const unauthorized = (message: string) => new AppError('unauthorized', message);

export class TokenService {
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;
  private readonly now: () => Date;

  constructor(private readonly deps: TokenServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    if (deps.oidc) this.jwks = createRemoteJWKSet(new URL(deps.oidc.jwksUrl));
  }

  /** Username and password → a JWT for at most MAX_TOKEN_TTL_S seconds. */
  async issue(username: string, password: string, ttlSeconds?: number) {
    const counted = (await this.deps.throttle?.check(username)) ?? 0;
    const user = await this.deps.users.verify(username, password);
    if (!user) {
      await this.deps.throttle?.failed(username);
      throw unauthorized('Invalid username or password');
    }
    await this.deps.throttle?.succeeded(username, counted);
    const access = await this.accessFor(user, ttlSeconds);
    return this.deps.refresh ? { ...access, ...(await this.deps.refresh.start(user.username)) } : access;
  }

  /**
   * A refresh token → a new access token (for the user's scopes as they are now) and the refresh
   * token that replaces it; the presented one dies (RefreshTokenService.rotate).
   */
  async refresh(refreshToken: string, ttlSeconds?: number) {
    if (!this.deps.refresh) throw unauthorized('Refresh tokens are not enabled on this service');
    const next = await this.deps.refresh.rotate(
      refreshToken,
      async (username) => (await this.deps.users.active(username)) !== null,
    );
    const user = await this.deps.users.active(next.username);
    if (!user) throw unauthorized('The user of this login is deactivated or gone');
    return {
      ...(await this.accessFor(user, ttlSeconds)),
      refresh_token: next.refresh_token,
      refresh_expires_at: next.refresh_expires_at,
    };
  }

  /** Ends the login a refresh token belongs to (every token rotated from it). */
  async revoke(refreshToken: string): Promise<boolean> {
    return (await this.deps.refresh?.revoke(refreshToken)) ?? false;
  }

  private accessFor(user: UserRecord, ttlSeconds?: number) {
    return this.sign(user.username, user.scopes, ttlSeconds, {});
  }

  /**
   * A token for a CI job whose OIDC token matched a trust policy (POST /auth/oidc): its subject is
   * `oidc:<policy>:<sub>` and its `pol` claim names the policy, which must still stand when it is used.
   */
  issueForPolicy(subject: string, scopes: Scope[], ttlSeconds: number | undefined, policy: string) {
    return this.sign(subject, scopes, ttlSeconds, { pol: policy });
  }

  private async sign(subject: string, scopes: Scope[], ttlSeconds: number | undefined, claims: object) {
    const ttl = Math.min(ttlSeconds ?? this.deps.ttlSeconds, MAX_TOKEN_TTL_S);
    const iat = Math.floor(this.now().getTime() / 1000);
    const token = await new SignJWT({ ...claims, scope: scopes.join(' ') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID())
      .sign(await this.deps.secret());
    return {
      access_token: token,
      token_type: 'Bearer' as const,
      expires_in: ttl,
      expires_at: new Date((iat + ttl) * 1000).toISOString(),
      scope: scopes.join(' '),
    };
  }

  /** The principal of a Bearer token; 401 for anything not valid right now. */
  async authenticate(token: string): Promise<Principal> {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw unauthorized('Bearer token is not a JWT');
    }
    if (this.deps.oidc && issuer === this.deps.oidc.issuer) return this.external(token, this.deps.oidc);
    const payload = await this.verify(() =>
      this.deps.secret().then((key) =>
        jwtVerify(token, key, {
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub'],
          currentDate: this.now(),
        }),
      ),
    );
    if (typeof payload.pol === 'string') return this.policyPrincipal(payload, payload.pol);
    // A deactivated user's tokens stop at once; a narrowed user's tokens narrow with them.
    const user = await this.deps.users.active(payload.sub!);
    if (!user) throw unauthorized('The user of this token is deactivated or gone');
    const granted = scopesOf(payload.scope);
    return {
      id: `user:${user.username}`,
      type: 'user',
      name: user.username,
      scopes: user.scopes.filter((s) => granted.includes(s)),
    };
  }

  private async policyPrincipal(payload: JWTPayload, policy: string): Promise<Principal> {
    if (!(await this.deps.trustPolicyActive?.(policy)))
      throw unauthorized(`The trust policy '${policy}' of this token is deleted or gone`);
    return {
      id: payload.sub!,
      type: 'oidc',
      name: payload.sub!.slice(`oidc:${policy}:`.length),
      scopes: scopesOf(payload.scope),
    };
  }

  private async external(token: string, oidc: OidcConfig): Promise<Principal> {
    const payload = await this.verify(() =>
      jwtVerify(token, this.jwks!, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
        requiredClaims: ['exp', 'sub'],
        currentDate: this.now(),
      }).catch((error: unknown) => {
        // The identity provider's keys could not be fetched: an outage (503, retry), not a bad token.
        const code = (error as { code?: string }).code ?? '';
        if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JWKS_INVALID' || !code.startsWith('ERR_J'))
          throw new AppError(
            'unavailable',
            `The identity provider's keys (${oidc.jwksUrl}) cannot be fetched; retry shortly`,
            { jwks_url: oidc.jwksUrl },
            { cause: error },
          );
        throw error;
      }),
    );
    const scopes = scopesOf(payload[oidc.scopesClaim]);
    return {
      id: `oidc:${payload.sub}`,
      type: 'user',
      name: typeof payload.email === 'string' ? payload.email : payload.sub!,
      scopes: scopes.length ? normaliseScopes(scopes) : [],
    };
  }

  private async verify(run: () => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
    try {
      return (await run()).payload;
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code === 'ERR_JWT_EXPIRED') throw unauthorized('Bearer token has expired');
      if (code.startsWith('ERR_J')) throw unauthorized(`Bearer token rejected: ${(error as Error).message}`);
      throw error;
    }
  }
}

/** `read write`, `["read"]`, or prefixed `buildstate:admin` / `buildstate/write` → known scopes. */
function scopesOf(claim: unknown): Scope[] {
  const values = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  return values
    .map((v) => String(v).replace(/^buildstate[:/]/, ''))
    .filter((v): v is Scope => (SCOPES as readonly string[]).includes(v));
}

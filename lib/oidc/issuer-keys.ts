/**
 * The signing keys of OIDC issuers, found by discovery (`<issuer>/.well-known/openid-configuration`
 * → `jwks_uri`) and kept in memory per runtime. jose's remote JWKS caches keys for `cacheMaxAge`
 * and refetches on an unknown `kid` at most once per `cooldownDuration`: a storm of tokens with
 * made-up kids costs at most one fetch per interval. When a refetch fails, the keys last fetched
 * keep verifying (an issuer outage does not lock pipelines out while their keys still hold).
 */
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import { AppError } from '../errors';
import { issuerUrlProblem } from './trust-policy.rules';

export interface IssuerKeysOptions {
  /** Keys are refetched after this long even when every kid is known (default 10 minutes). */
  cacheMaxAgeMs?: number;
  /** At most one refetch for unknown kids per this interval (default 30 s). */
  cooldownMs?: number;
  /** A failed discovery is not retried for this long (default 30 s). */
  discoveryRetryMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

interface Entry {
  jwksUri: string;
  remote: RemoteJWKSet;
}

const unavailable = (issuer: string, why: string, cause?: unknown) =>
  new AppError(
    'unavailable',
    `The keys of the OIDC issuer ${issuer} cannot be fetched (${why}); retry shortly`,
    { issuer, reason: 'issuer_unreachable' },
    { cause },
  );

/** jose's codes for "the keys could not be fetched" (not "the token is bad"). */
const FETCH_FAILURE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

export class IssuerKeys {
  private readonly entries = new Map<string, Promise<Entry>>();
  private readonly failedAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: IssuerKeysOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** A key resolver for jwtVerify, for an issuer a trust policy names (never for any `iss` a token claims). */
  async resolver(issuer: string): Promise<JWTVerifyGetKey> {
    const entry = await this.entry(issuer);
    return async (header, token) => {
      try {
        return await entry.remote(header, token);
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        const cached = entry.remote.jwks();
        const fetchFailed = FETCH_FAILURE.has(code) || !code.startsWith('ERR_');
        if (fetchFailed && cached) return createLocalJWKSet(cached)(header, token);
        if (fetchFailed) throw unavailable(issuer, `JWKS ${entry.jwksUri}`, error);
        throw error;
      }
    };
  }

  private entry(issuer: string): Promise<Entry> {
    const known = this.entries.get(issuer);
    if (known) return known;
    const failed = this.failedAt.get(issuer);
    if (failed !== undefined && this.now() - failed < (this.options.discoveryRetryMs ?? 30_000))
      return Promise.reject(unavailable(issuer, 'discovery failed recently'));
    const pending = this.discover(issuer).catch((error: unknown) => {
      this.entries.delete(issuer);
      this.failedAt.set(issuer, this.now());
      throw error instanceof AppError ? error : unavailable(issuer, 'discovery failed', error);
    });
    this.entries.set(issuer, pending);
    return pending;
  }

  private async discover(issuer: string): Promise<Entry> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, {
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      redirect: 'error',
      headers: { accept: 'application/json' },
    });
    if (!res.ok) throw unavailable(issuer, `discovery answered ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // The document must be the issuer's own (OpenID Connect Discovery 1.0 §4.3).
    if (doc.issuer !== issuer)
      throw unavailable(issuer, `discovery names another issuer (${String(doc.issuer)})`);
    if (typeof doc.jwks_uri !== 'string' || issuerUrlProblem(doc.jwks_uri))
      throw unavailable(issuer, 'discovery has no https jwks_uri');
    return {
      jwksUri: doc.jwks_uri,
      remote: createRemoteJWKSet(new URL(doc.jwks_uri), {
        cacheMaxAge: this.options.cacheMaxAgeMs ?? 600_000,
        cooldownDuration: this.options.cooldownMs ?? 30_000,
        timeoutDuration: this.options.timeoutMs ?? 5000,
      }),
    };
  }
}

/**
 * Trust policies (admin) and the exchange of a CI job's OIDC token for a BuildState token
 * (POST /auth/oidc). Refusals are typed: `details.reason` says which check failed, and the token
 * itself is never echoed or logged.
 */
import { decodeJwt, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import { normaliseScopes } from '../auth/api-key.service';
import type { Principal, Scope } from '../auth/principal';
import { AppError } from '../errors';
import { logger } from '../observability/logger';
import type { IssuerKeys } from './issuer-keys';
import type { TrustPolicyRecord, TrustPolicyRepository } from './trust-policy.repository';
import { claimsMatch, policyProblems } from './trust-policy.rules';
import type { NewTrustPolicy } from './trust-policy.schema';
import { trustPolicyView } from './trust-policy.view';

/** Asymmetric algorithms only: never `none`, never HS* (which would let the public key be a secret). */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];
/** Seconds of clock skew allowed on exp, nbf and iat. */
export const OIDC_LEEWAY_S = 60;

export type OidcRefusal =
  | 'malformed'
  | 'algorithm'
  | 'unknown_issuer'
  | 'audience'
  | 'signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'missing_claim';

const refused = (reason: OidcRefusal, message: string, details: Record<string, unknown> = {}) =>
  new AppError('unauthorized', message, { reason, ...details });

export type Issue = (
  subject: string,
  scopes: Scope[],
  ttlSeconds: number | undefined,
  policy: string,
) => Promise<{
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  expires_at: string;
  scope: string;
}>;

export class TrustPolicyService {
  private readonly now: () => Date;

  constructor(
    private readonly repo: TrustPolicyRepository,
    private readonly keys: IssuerKeys,
    private readonly issue: Issue,
    now?: () => Date,
  ) {
    this.now = now ?? (() => new Date());
  }

  async create(input: NewTrustPolicy, actor: Principal) {
    const problems = policyProblems(input);
    if (problems.length)
      throw new AppError(
        'validation_error',
        `Unsafe trust policy: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
        {
          issues: problems,
        },
      );
    const record: TrustPolicyRecord = {
      id: input.id,
      issuer: input.issuer,
      audience: input.audience,
      claims: input.claims,
      scopes: normaliseScopes(input.scopes),
      token_ttl_s: input.token_ttl_s ?? null,
      created_at: this.now().toISOString(),
      created_by: actor.id,
      deleted_at: null,
      deleted_by: null,
    };
    if (!(await this.repo.create(record)))
      throw new AppError(
        'already_exists',
        `Trust policy '${input.id}' exists (deleted policies keep their id)`,
        {
          id: input.id,
        },
      );
    return trustPolicyView(record);
  }

  async list(includeDeleted: boolean) {
    return (await this.repo.list()).filter((p) => includeDeleted || !p.deleted_at).map(trustPolicyView);
  }

  async get(id: string) {
    const policy = await this.repo.get(id);
    if (!policy) throw new AppError('not_found', `No trust policy '${id}'`, { id });
    return trustPolicyView(policy);
  }

  /** Soft delete: the item stays (history names its tokens' actors); its tokens stop at once. */
  async delete(id: string, actor: Principal) {
    const policy = await this.repo.softDelete(id, this.now().toISOString(), actor.id);
    if (!policy) throw new AppError('not_found', `No trust policy '${id}'`, { id });
    return trustPolicyView(policy);
  }

  /** Whether a policy exists and is not deleted (tokens it issued die with it). */
  async active(id: string): Promise<boolean> {
    const policy = await this.repo.get(id);
    return policy !== null && policy.deleted_at === null;
  }

  /** A CI job's OIDC token → a BuildState token with the scopes of the one policy it matches. */
  async exchange(token: string) {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      throw refused('malformed', 'The token is not a signed JWT');
    }
    if (typeof header.alg !== 'string' || !OIDC_ALGORITHMS.includes(header.alg))
      throw refused(
        'algorithm',
        `Algorithm ${String(header.alg)} is not accepted (asymmetric only: ${OIDC_ALGORITHMS.join(', ')})`,
        {
          alg: String(header.alg),
        },
      );
    const issuer = claims.iss;
    // Only issuers a policy names are ever contacted: a token cannot make the service fetch a URL.
    const ofIssuer =
      typeof issuer === 'string'
        ? (await this.repo.list()).filter((p) => !p.deleted_at && p.issuer === issuer)
        : [];
    if (!ofIssuer.length)
      throw refused('unknown_issuer', 'No trust policy names the issuer of this token', {
        issuer: String(issuer),
      });
    const audiences =
      typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    const forAudience = ofIssuer.filter((p) => audiences.includes(p.audience));
    if (!forAudience.length)
      throw refused(
        'audience',
        "The token is not for this service: its aud is none of the trust policies' audiences",
        {
          issuer,
          aud: audiences,
        },
      );
    const payload = await this.verify(token, issuer!);
    const matching = forAudience
      .filter((p) => claimsMatch(p.claims, payload))
      // The most specific policy wins; ties go to the smallest id (a stable answer).
      .sort(
        (a, b) => Object.keys(b.claims).length - Object.keys(a.claims).length || a.id.localeCompare(b.id),
      );
    const policy = matching[0];
    if (!policy) {
      logger.warn('oidc token matched no trust policy', { issuer, sub: payload.sub });
      throw new AppError('forbidden', "The token is valid, but no trust policy's claim conditions match it", {
        reason: 'no_matching_policy',
        issuer,
        sub: payload.sub,
        policies: forAudience.map((p) => p.id),
      });
    }
    const subject = `oidc:${policy.id}:${payload.sub}`;
    const access = await this.issue(subject, policy.scopes, policy.token_ttl_s ?? undefined, policy.id);
    logger.info('oidc token exchanged', {
      policy: policy.id,
      issuer,
      sub: payload.sub,
      scopes: policy.scopes,
    });
    return { ...access, scopes: policy.scopes, policy: policy.id };
  }

  private async verify(token: string, issuer: string): Promise<JWTPayload> {
    const resolver = await this.keys.resolver(issuer);
    try {
      const { payload } = await jwtVerify(token, resolver, {
        issuer,
        algorithms: OIDC_ALGORITHMS,
        clockTolerance: OIDC_LEEWAY_S,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: this.now(),
      });
      if (payload.iat! > this.now().getTime() / 1000 + OIDC_LEEWAY_S)
        throw refused('issued_in_future', 'The token was issued in the future (check the clocks)');
      return payload;
    } catch (error) {
      if (error instanceof AppError) throw error;
      const { code, claim } = error as { code?: string; claim?: string };
      if (code === 'ERR_JWT_EXPIRED') throw refused('expired', 'The token has expired');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf')
        throw refused('not_yet_valid', 'The token is not valid yet (nbf)');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
        throw refused('missing_claim', `The token's ${claim} claim is missing or invalid`, { claim });
      if (code === 'ERR_JOSE_ALG_NOT_ALLOWED')
        throw refused('algorithm', "The token's algorithm is not accepted");
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS')
        throw refused('unknown_key', "No key of the issuer matches the token's kid", { issuer });
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code?.startsWith('ERR_J'))
        throw refused('signature', "The token's signature does not verify", { issuer });
      throw error;
    }
  }
}

/**
 * Refresh tokens (OAuth 2.0 refresh-token rotation, RFC 9700 §4.14.2): `auth login` gets one with
 * its access token; trading it in (POST /auth/refresh) gives a new access token and a new refresh
 * token, and the old one dies. A rotated token presented again means two parties hold the login:
 * the whole login (the token's family) is revoked. Only SHA-256 hashes are stored. A login also
 * dies when it is revoked (POST /auth/revoke, `auth logout`) or its user is deactivated, and a
 * token expires `ttlSeconds` after it was issued (each rotation starts a new period).
 * Framework-free: it knows the repository, not HTTP and not JWTs (TokenService composes them).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import type { RefreshTokenRecord, RefreshTokenRepository } from './refresh-token.repository';

export const REFRESH_TOKEN_PREFIX = 'bsr_';
/** Default life of a refresh token: 30 days from its issue (BUILDSTATE_REFRESH_TTL_S). */
export const DEFAULT_REFRESH_TTL_S = 30 * 24 * 3600;

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface IssuedRefreshToken {
  refresh_token: string;
  refresh_expires_at: string;
}

const refused = (message: string) => new AppError('unauthorized', message);

export class RefreshTokenService {
  constructor(
    private readonly repo: RefreshTokenRepository,
    private readonly ttlSeconds: number = DEFAULT_REFRESH_TTL_S,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The first refresh token of a new login. */
  async start(username: string): Promise<IssuedRefreshToken> {
    const at = this.now().toISOString();
    const familyId = randomUUID();
    const { token, record } = this.mint(familyId, username, at);
    await this.repo.start(
      { family_id: familyId, username, created_at: at, revoked_at: null, revoked_reason: null },
      record,
    );
    return { refresh_token: token, refresh_expires_at: record.expires_at };
  }

  /**
   * Trades a refresh token for its successor. Refused (401) when unknown, expired, revoked, or
   * used before — the last revokes its whole login. `stillActive` is asked before anything is
   * written: a deactivated user's login is revoked instead.
   */
  async rotate(
    presented: string,
    stillActive: (username: string) => Promise<boolean>,
  ): Promise<IssuedRefreshToken & { username: string }> {
    const old = presented.startsWith(REFRESH_TOKEN_PREFIX)
      ? await this.repo.get(hashRefreshToken(presented))
      : null;
    if (!old) throw refused('Unknown refresh token; log in again');
    const at = this.now().toISOString();
    if (old.used_at) {
      await this.repo.revokeFamily(old.family_id, at, 'reuse');
      throw refused(
        'This refresh token was already used: the login is revoked (every token of it); log in again',
      );
    }
    if (Date.parse(old.expires_at) <= this.now().getTime())
      throw refused(`The refresh token expired at ${old.expires_at}; log in again`);
    if (!(await stillActive(old.username))) {
      await this.repo.revokeFamily(old.family_id, at, 'user_deactivated');
      throw refused('The user of this login is deactivated or gone');
    }
    const { token, record } = this.mint(old.family_id, old.username, at);
    const outcome = await this.repo.rotate(old, record, at);
    if (outcome === 'revoked') throw refused('This login was revoked; log in again');
    if (outcome === 'reused') {
      await this.repo.revokeFamily(old.family_id, at, 'reuse');
      throw refused(
        'This refresh token was already used: the login is revoked (every token of it); log in again',
      );
    }
    return { username: old.username, refresh_token: token, refresh_expires_at: record.expires_at };
  }

  /** Revokes the login a refresh token belongs to (RFC 7009: an unknown token is not an error). */
  async revoke(presented: string): Promise<boolean> {
    const record = presented.startsWith(REFRESH_TOKEN_PREFIX)
      ? await this.repo.get(hashRefreshToken(presented))
      : null;
    if (record) await this.repo.revokeFamily(record.family_id, this.now().toISOString(), 'revoked');
    return record !== null;
  }

  private mint(
    familyId: string,
    username: string,
    at: string,
  ): { token: string; record: RefreshTokenRecord } {
    const token = `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    return {
      token,
      record: {
        token_hash: hashRefreshToken(token),
        family_id: familyId,
        username,
        created_at: at,
        expires_at: new Date(Date.parse(at) + this.ttlSeconds * 1000).toISOString(),
        used_at: null,
      },
    };
  }
}

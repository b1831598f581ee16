import { LruCache } from '../cache';
import { AppError } from '../errors';
import { generateApiKeySecret, hashApiKey } from './api-key';
import type { ApiKeyRepository } from './api-key.repository';
import type { Principal } from './principal';

const unauthorized = (message: string) => new AppError('unauthorized', message);

export interface ApiKeyServiceOptions {
  /**
   * How long a verified key is trusted without another lookup (0 = always look up). The same
   * trade API Gateway's authorizer result cache makes: a revocation takes up to this long to bite.
   */
  cacheTtlSeconds?: number;
  now?: () => Date;
}

export class ApiKeyService {
  private readonly verified = new LruCache<
    string,
    { principal: Principal; until: number; expiresAt: number }
  >(1000);
  private readonly ttlMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly repo: ApiKeyRepository,
    options: ApiKeyServiceOptions = {},
  ) {
    this.ttlMs = (options.cacheTtlSeconds ?? 0) * 1000;
    this.now = options.now ?? (() => new Date());
  }

  /** The principal for an X-API-Key value; 401 for a missing, unknown, revoked or expired key. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw unauthorized('Missing credentials: send your API key in the X-API-Key header');
    const digest = hashApiKey(secret);
    const now = this.now().getTime();
    const hit = this.verified.get(digest);
    if (hit && hit.until > now && hit.expiresAt > now) return hit.principal;

    const record = await this.repo.findByDigest(digest);
    if (!record || record.revoked_at) throw unauthorized('Invalid API key');
    const expiresAt = record.expires_at ? Date.parse(record.expires_at) : Number.POSITIVE_INFINITY;
    if (expiresAt <= now) throw unauthorized('API key has expired');
    const principal: Principal = {
      id: `key:${record.key_id}`,
      type: 'api_key',
      name: record.name,
      scopes: record.scopes,
    };
    if (this.ttlMs > 0) this.verified.set(digest, { principal, until: now + this.ttlMs, expiresAt });
    return principal;
  }

  /**
   * Makes sure an operator can get in. With `chosenSecret` (BUILDSTATE_BOOTSTRAP_ADMIN_KEY) that exact
   * key becomes an admin key. Without it, an admin key is generated once, ever, and returned so the
   * caller can show it; later calls return null because only its digest was kept.
   */
  async ensureBootstrapAdminKey(
    chosenSecret?: string,
  ): Promise<{ secret: string; generated: boolean } | null> {
    const created_at = this.now().toISOString();
    const base = {
      scopes: ['admin', 'write', 'read'] as Principal['scopes'],
      created_at,
      expires_at: null,
      revoked_at: null,
    };
    if (chosenSecret) {
      await this.repo.put(hashApiKey(chosenSecret), {
        ...base,
        key_id: 'bootstrap-env',
        name: 'bootstrap admin (env)',
      });
      return { secret: chosenSecret, generated: false };
    }
    const secret = generateApiKeySecret();
    const stored = await this.repo.putFirstAdminKey(hashApiKey(secret), {
      ...base,
      key_id: 'bootstrap',
      name: 'bootstrap admin (generated)',
    });
    return stored ? { secret, generated: true } : null;
  }
}

import { AppError } from '../errors';
import { generateApiKeySecret, hashApiKey } from './api-key';
import type { ApiKeyRepository } from './api-key.repository';
import type { Principal } from './principal';

const unauthorized = (message: string) => new AppError('unauthorized', message);

export class ApiKeyService {
  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The principal for an X-API-Key value; 401 for a missing, unknown, revoked or expired key. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw unauthorized('Missing credentials: send your API key in the X-API-Key header');
    const record = await this.repo.findByDigest(hashApiKey(secret));
    if (!record || record.revoked_at) throw unauthorized('Invalid API key');
    if (record.expires_at && Date.parse(record.expires_at) <= this.now().getTime()) {
      throw unauthorized('API key has expired');
    }
    return { id: `key:${record.key_id}`, type: 'api_key', name: record.name, scopes: record.scopes };
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

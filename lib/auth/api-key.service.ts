import { LruCache } from '../cache';
import { AppError } from '../errors';
import { logger } from '../observability/logger';
import { apiKeyIdFor, digestsEqual, generateApiKeySecret, hashApiKey, secretHint } from './api-key';
import type { ApiKeyRecord, ApiKeyRepository } from './api-key.repository';
import type { Principal, Scope } from './principal';

const unauthorized = (message: string) => new AppError('unauthorized', message);

/** last_used_at is written at most this often per key and runtime: one cheap write, not one per request. */
const TOUCH_INTERVAL_MS = 60_000;

/** The active user a key belongs to, or null when deactivated or gone. */
export type OwnerLookup = (username: string) => Promise<{ username: string; scopes: Scope[] } | null>;

export interface ApiKeyServiceOptions {
  /**
   * How long a verified key is trusted without another lookup (0 = always look up). A revocation
   * reaches other runtimes only after this long; the runtime that revoked forgets at once.
   */
  cacheTtlSeconds?: number;
  now?: () => Date;
  /** Reads the owner of a user's key on every authentication (so deactivation and narrowing apply). */
  owners?: OwnerLookup;
}

export interface NewApiKey {
  name: string;
  /** Default for a key with an owner: the owner's scopes. */
  scopes?: Scope[];
  owner?: string;
  expires_at?: string | null;
}

export class ApiKeyService {
  private readonly verified = new LruCache<
    string,
    { principal: Principal; until: number; expiresAt: number }
  >(1000);
  private readonly touched = new LruCache<string, number>(1000);
  private readonly ttlMs: number;
  private readonly now: () => Date;
  private readonly owners: OwnerLookup;

  constructor(
    private readonly repo: ApiKeyRepository,
    options: ApiKeyServiceOptions = {},
  ) {
    this.ttlMs = (options.cacheTtlSeconds ?? 0) * 1000;
    this.now = options.now ?? (() => new Date());
    this.owners = options.owners ?? (async () => null);
  }

  /** The principal for an X-API-Key value; 401 for an unknown, revoked or expired key. */
  async authenticate(secret: string): Promise<Principal> {
    const digest = hashApiKey(secret);
    const keyId = apiKeyIdFor(digest);
    const now = this.now().getTime();
    const hit = this.verified.get(digest);
    if (hit && hit.until > now && hit.expiresAt > now) return hit.principal;

    const record = (await this.repo.findById(keyId)) ?? (await this.repo.migrateLegacy(digest));
    if (!record || !digestsEqual(record.secret_hash, digest)) throw unauthorized('Invalid API key');
    if (record.revoked_at) throw unauthorized('API key has been revoked');
    const expiresAt = record.expires_at ? Date.parse(record.expires_at) : Number.POSITIVE_INFINITY;
    if (expiresAt <= now) throw unauthorized('API key has expired');
    let scopes = record.scopes;
    if (record.owner) {
      // A user's token is never wider than the user, and stops with them.
      const owner = await this.owners(record.owner);
      if (!owner) throw unauthorized(`The user of this API token ('${record.owner}') is deactivated or gone`);
      scopes = scopes.filter((s) => normaliseScopes(owner.scopes).includes(s));
      if (scopes.length === 0)
        throw unauthorized(`User '${record.owner}' no longer has any scope of this token`);
    }
    const principal: Principal = {
      id: `key:${record.key_id}`,
      type: 'api_key',
      name: record.owner ? `${record.owner}: ${record.name}` : record.name,
      scopes,
    };
    // A user's token is looked up each time, as the user's JWTs are: deactivation applies at once.
    if (this.ttlMs > 0 && !record.owner)
      this.verified.set(digest, { principal, until: now + this.ttlMs, expiresAt });
    await this.touch(record, now);
    return principal;
  }

  private async touch(record: ApiKeyRecord, now: number): Promise<void> {
    const last = Math.max(
      this.touched.get(record.key_id) ?? 0,
      record.last_used_at ? Date.parse(record.last_used_at) : 0,
    );
    if (now - last < TOUCH_INTERVAL_MS) return;
    this.touched.set(record.key_id, now);
    // Bookkeeping must never fail a request: log and go on.
    await this.repo
      .touch(record.key_id, new Date(now).toISOString())
      .catch((error) => logger.warn('could not record API key use', { key_id: record.key_id, error }));
  }

  /** A new key: the secret is in this response only. */
  async create(input: NewApiKey, actor: Principal) {
    const now = this.now();
    if (input.expires_at && Date.parse(input.expires_at) <= now.getTime()) {
      throw new AppError('validation_error', 'expires_at must be in the future', { field: 'expires_at' });
    }
    let scopes = input.scopes;
    if (input.owner) {
      const owner = await this.owners(input.owner);
      if (!owner)
        throw new AppError('validation_error', `No active user '${input.owner}' to own this key`, {
          field: 'owner',
        });
      const allowed = normaliseScopes(owner.scopes);
      scopes ??= allowed;
      if (!normaliseScopes(scopes).every((s) => allowed.includes(s)))
        throw new AppError(
          'validation_error',
          `A token of '${input.owner}' cannot have wider scopes than the user (${allowed.join(', ')})`,
          { field: 'scopes', allowed },
        );
    }
    for (;;) {
      const secret = generateApiKeySecret();
      const digest = hashApiKey(secret);
      const record: ApiKeyRecord = {
        key_id: apiKeyIdFor(digest),
        name: input.name,
        scopes: normaliseScopes(scopes!),
        owner: input.owner ?? null,
        secret_hash: digest,
        secret_hint: secretHint(secret),
        created_at: now.toISOString(),
        created_by: actor.id,
        expires_at: input.expires_at ?? null,
        revoked_at: null,
        revoked_by: null,
        last_used_at: null,
      };
      // A 64-bit id collision is astronomically unlikely; if it happens, draw another secret.
      if (await this.repo.create(record)) return { ...apiKeyView(record), secret };
    }
  }

  async list(includeRevoked: boolean, owner?: string) {
    const all = await this.repo.list();
    const now = this.now().toISOString();
    return all
      .filter((k) => includeRevoked || (!k.revoked_at && !(k.expires_at && k.expires_at <= now)))
      .filter((k) => owner === undefined || k.owner === owner)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.key_id.localeCompare(b.key_id))
      .map(apiKeyView);
  }

  /** Revokes at once: the next request with the key is refused by every runtime that does not cache. */
  async revoke(keyId: string, actor: Principal) {
    const record = await this.repo.revoke(keyId, this.now().toISOString(), actor.id);
    if (!record) throw new AppError('not_found', `No API key '${keyId}'`, { key_id: keyId });
    this.verified.delete(record.secret_hash);
    return apiKeyView(record);
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
    const secret = chosenSecret ?? generateApiKeySecret();
    const digest = hashApiKey(secret);
    const record: ApiKeyRecord = {
      key_id: apiKeyIdFor(digest),
      name: chosenSecret ? 'bootstrap admin (env)' : 'bootstrap admin (generated)',
      scopes: normaliseScopes(['admin']),
      secret_hash: digest,
      secret_hint: secretHint(secret),
      created_at,
      created_by: 'system:bootstrap',
      expires_at: null,
      revoked_at: null,
      revoked_by: null,
      last_used_at: null,
    };
    if (chosenSecret) {
      const existing = await this.repo.findById(record.key_id);
      // Re-running with the same key keeps its record (and a revocation: revoked stays revoked).
      if (!existing) await this.repo.put(record);
      return { secret, generated: false };
    }
    return (await this.repo.putFirstAdminKey(record)) ? { secret, generated: true } : null;
  }
}

/** admin implies write implies read: store the highest scope asked for and every scope below it. */
export function normaliseScopes(scopes: Scope[]): Scope[] {
  const order: Scope[] = ['admin', 'write', 'read'];
  const top = order.find((s) => scopes.includes(s)) ?? 'read';
  return order.slice(order.indexOf(top));
}

export function apiKeyView(k: ApiKeyRecord) {
  return {
    id: k.key_id,
    name: k.name,
    owner: k.owner ?? null,
    scopes: k.scopes,
    secret_hint: k.secret_hint,
    created_at: k.created_at,
    created_by: k.created_by,
    expires_at: k.expires_at,
    last_used_at: k.last_used_at,
    revoked_at: k.revoked_at,
    revoked_by: k.revoked_by,
    active: !k.revoked_at,
  };
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Secrets carry a recognisable prefix (secret scanners, humans) and 32 random bytes. */
export const API_KEY_PREFIX = 'bst_';

export const generateApiKeySecret = () => `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

/**
 * Keys are stored only as SHA-256 digests. A fast hash is right here: generated secrets are
 * 256-bit random, so there is nothing to brute-force.
 */
export const hashApiKey = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/**
 * A key's public id is derived from its digest (`ak_` + 16 hex digits): the item is fetched by id,
 * then the full stored digest is compared with the presented one in constant time.
 */
export const apiKeyIdFor = (digest: string) => `ak_${digest.slice(0, 16)}`;

export const digestsEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
};

/** What `GET /api-keys` shows in place of the secret: enough to recognise it, useless to use. */
export const secretHint = (secret: string) => `${secret.slice(0, API_KEY_PREFIX.length + 4)}…`;

export const apiKeyItemKey = (keyId: string) => ({ pk: `APIKEY#${keyId}`, sk: 'APIKEY' });
/** Items of versions before key ids were derived: keyed by the full digest. Read, then migrated. */
export const legacyApiKeyItemKey = (digest: string) => ({ pk: `APIKEY#${digest}`, sk: 'APIKEY' });
export const API_KEYS_PARTITION = 'APIKEY';
export const BOOTSTRAP_MARKER_KEY = { pk: 'META#ADMIN_BOOTSTRAP', sk: 'META' };

import { createHash, randomBytes } from 'node:crypto';

/** Secrets carry a recognisable prefix (secret scanners, humans) and 32 random bytes. */
export const API_KEY_PREFIX = 'bst_';

export const generateApiKeySecret = () => `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

/**
 * Keys are stored only as SHA-256 digests and looked up by digest. A fast hash is right here:
 * the secrets are 256-bit random, so there is nothing to brute-force, and the lookup by digest
 * means no secret is ever compared byte by byte.
 */
export const hashApiKey = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export const apiKeyItemKey = (digest: string) => ({ pk: `APIKEY#${digest}`, sk: 'APIKEY' });
export const BOOTSTRAP_MARKER_KEY = { pk: 'META#ADMIN_BOOTSTRAP', sk: 'META' };

import * as z from 'zod';
import { SCOPES } from './principal';

const scopes = z.array(z.enum(SCOPES)).min(1, 'name at least one scope').max(3);

export const usernameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'must be 2-64 lowercase letters, digits, ".", "_" or "-"');

/**
 * A key with an `owner` is that user's API token: its scopes default to the user's and may not be
 * wider. A key without one belongs to no one and must name its scopes.
 */
export const createApiKeySchema = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    scopes: scopes.optional(),
    owner: usernameSchema.optional(),
    expires_at: z.iso.datetime({ offset: true }).nullish(),
  })
  .refine((k) => k.scopes !== undefined || k.owner !== undefined, {
    message: "name the scopes (they default to the owner's only for a key with an owner)",
    path: ['scopes'],
  });

export const listApiKeysQuerySchema = z.strictObject({
  include_revoked: z.enum(['true', 'false']).default('false'),
  owner: usernameSchema.optional(),
});

export const apiKeyIdSchema = z
  .string()
  .regex(/^ak_[0-9a-f]{16}$/, 'is not an API key id (ak_ + 16 hex digits)');

export const createUserSchema = z.strictObject({
  username: usernameSchema,
  email: z.email().max(254),
  password: z.string().min(12, 'must be at least 12 characters').max(1024),
  scopes,
});

export const tokenRequestSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  ttl_s: z.number().int().min(60).max(3600).optional(),
});

const include = (name: 'include_deactivated' | 'include_revoked') =>
  z.strictObject({ [name]: z.enum(['true', 'false']).default('false') });
const INCLUDE = {
  include_deactivated: include('include_deactivated'),
  include_revoked: include('include_revoked'),
};
/** One schema object per name, so the route table and the handlers hold the very same one. */
export const includeQuerySchema = (name: keyof typeof INCLUDE) => INCLUDE[name];

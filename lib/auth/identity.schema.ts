import * as z from '../zod';
import { SCOPES } from './principal';

const scopes = z.array(z.enum(SCOPES)).check(z.minLength(1, 'name at least one scope')).check(z.maxLength(3));

export const usernameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'must be 2-64 lowercase letters, digits, ".", "_" or "-"'));

/**
 * A key with an `owner` is that user's API token: its scopes default to the user's and may not be
 * wider. A key without one belongs to no one and must name its scopes.
 */
export const createApiKeySchema = z
  .strictObject({
    name: z
      .string()
      .check(z.trim())
      .check(z.minLength(1, 'must not be empty'))
      .check(z.maxLength(100, 'must be at most 100 characters')),
    scopes: z.optional(scopes),
    owner: z.optional(usernameSchema),
    expires_at: z.nullish(z.iso.datetime({ offset: true })),
  })
  .check(
    z.refine((k) => k.scopes !== undefined || k.owner !== undefined, {
      message: "name the scopes (they default to the owner's only for a key with an owner)",
      path: ['scopes'],
    }),
  );

export const listApiKeysQuerySchema = z.strictObject({
  include_revoked: z._default(z.enum(['true', 'false']), 'false'),
  owner: z.optional(usernameSchema),
});

export const apiKeyIdSchema = z
  .string()
  .check(z.regex(/^ak_[0-9a-f]{16}$/, 'is not an API key id (ak_ + 16 hex digits)'));

export const createUserSchema = z.strictObject({
  username: usernameSchema,
  email: z.email().check(z.maxLength(254)),
  password: z.string().check(z.minLength(12, 'must be at least 12 characters')).check(z.maxLength(1024)),
  scopes,
});

export const tokenRequestSchema = z.strictObject({
  username: z.string().check(z.minLength(1)).check(z.maxLength(64)),
  password: z.string().check(z.minLength(1)).check(z.maxLength(1024)),
  ttl_s: z.optional(z.number().check(z.int()).check(z.gte(60)).check(z.lte(3600))),
});

/** POST /auth/refresh: a refresh token from POST /auth/token (or an earlier refresh). */
export const refreshRequestSchema = z.strictObject({
  refresh_token: z.string().check(z.minLength(1)).check(z.maxLength(256)),
  ttl_s: tokenRequestSchema.shape.ttl_s,
});

/** POST /auth/revoke: ends the login the refresh token belongs to. */
export const revokeRequestSchema = z.strictObject({
  refresh_token: z.string().check(z.minLength(1)).check(z.maxLength(256)),
});

const include = (name: 'include_deactivated' | 'include_revoked' | 'include_deleted') =>
  z.strictObject({ [name]: z._default(z.enum(['true', 'false']), 'false') });
const INCLUDE = {
  include_deactivated: include('include_deactivated'),
  include_revoked: include('include_revoked'),
  include_deleted: include('include_deleted'),
};
/** One schema object per name, so the route table and the handlers hold the very same one. */
export const includeQuerySchema = (name: keyof typeof INCLUDE) => INCLUDE[name];

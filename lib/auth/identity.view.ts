/** Response schemas of the identity routes and GET /whoami. */

import { timestampSchema } from '../view';
import * as z from '../zod';
import { SCOPES } from './principal';

const scopes = z.array(z.enum(SCOPES));

export const apiKeyViewSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  owner: z.nullable(z.string()).check(
    z.meta({
      description: 'The user a token belongs to (never wider than them); null for a key of no one',
    }),
  ),
  scopes,
  secret_hint: z
    .string()
    .check(z.meta({ description: 'The last characters of the secret, to recognise it' })),
  created_at: timestampSchema,
  created_by: z.string(),
  expires_at: z.nullable(timestampSchema),
  last_used_at: z.nullable(timestampSchema),
  revoked_at: z.nullable(timestampSchema),
  revoked_by: z.nullable(z.string()),
  active: z.boolean(),
});

/** POST /api-keys: the only answer that carries the secret. */
export const createdApiKeySchema = z.extend(apiKeyViewSchema, {
  secret: z
    .string()
    .check(z.meta({ description: 'Send it as X-API-Key; shown once, only its hash is kept' })),
});

export const apiKeyListSchema = z.strictObject({ items: z.array(apiKeyViewSchema) });

export const userViewSchema = z.strictObject({
  username: z.string(),
  email: z.string(),
  scopes,
  active: z.boolean(),
  version: z.int(),
  created_at: timestampSchema,
  created_by: z.string(),
  updated_at: timestampSchema,
  updated_by: z.string(),
  deactivated_at: z.nullable(timestampSchema),
  deactivated_by: z.nullable(z.string()),
});

export const userListSchema = z.strictObject({ items: z.array(userViewSchema) });

export const tokenViewSchema = z.strictObject({
  access_token: z.string().check(z.meta({ description: 'A JWT; send it as Authorization: Bearer <token>' })),
  token_type: z.literal('Bearer'),
  expires_in: z.int(),
  expires_at: timestampSchema,
  scope: z.string().check(z.meta({ description: 'Space-separated scopes' })),
  refresh_token: z.optional(
    z.string().check(
      z.meta({
        description:
          'Trade it at POST /auth/refresh for a new access token before this one expires; it works once (rotation)',
      }),
    ),
  ),
  refresh_expires_at: z.optional(timestampSchema),
});

/** POST /auth/revoke: an unknown token is not an error (RFC 7009); `revoked` says whether one was found. */
export const revokeViewSchema = z.strictObject({ revoked: z.boolean() });

export const whoamiViewSchema = z.strictObject({
  id: z.string(),
  type: z.enum(['api_key', 'user', 'oidc', 'iam', 'system']),
  name: z.string(),
  scopes,
});

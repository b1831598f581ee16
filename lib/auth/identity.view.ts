/** Response schemas of the identity routes and GET /whoami. */
import * as z from 'zod';
import { timestampSchema } from '../view';
import { SCOPES } from './principal';

const scopes = z.array(z.enum(SCOPES));

export const apiKeyViewSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  owner: z
    .string()
    .nullable()
    .meta({ description: 'The user a token belongs to (never wider than them); null for a key of no one' }),
  scopes,
  secret_hint: z.string().meta({ description: 'The last characters of the secret, to recognise it' }),
  created_at: timestampSchema,
  created_by: z.string(),
  expires_at: timestampSchema.nullable(),
  last_used_at: timestampSchema.nullable(),
  revoked_at: timestampSchema.nullable(),
  revoked_by: z.string().nullable(),
  active: z.boolean(),
});

/** POST /api-keys: the only answer that carries the secret. */
export const createdApiKeySchema = apiKeyViewSchema.extend({
  secret: z.string().meta({ description: 'Send it as X-API-Key; shown once, only its hash is kept' }),
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
  deactivated_at: timestampSchema.nullable(),
  deactivated_by: z.string().nullable(),
});

export const userListSchema = z.strictObject({ items: z.array(userViewSchema) });

export const tokenViewSchema = z.strictObject({
  access_token: z.string().meta({ description: 'A JWT; send it as Authorization: Bearer <token>' }),
  token_type: z.literal('Bearer'),
  expires_in: z.int(),
  expires_at: timestampSchema,
  scope: z.string().meta({ description: 'Space-separated scopes' }),
});

export const whoamiViewSchema = z.strictObject({
  id: z.string(),
  type: z.enum(['api_key', 'user', 'iam', 'system']),
  name: z.string(),
  scopes,
});

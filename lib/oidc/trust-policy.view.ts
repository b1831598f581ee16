/** Response schemas of the trust policy routes and POST /auth/oidc. */
import { SCOPES } from '../auth/principal';
import { timestampSchema } from '../view';
import * as z from '../zod';
import type { TrustPolicyRecord } from './trust-policy.repository';
import { claimConditionSchema } from './trust-policy.schema';

export const trustPolicyViewSchema = z.strictObject({
  id: z.string(),
  issuer: z.string(),
  audience: z.string(),
  claims: z.record(z.string(), claimConditionSchema),
  scopes: z.array(z.enum(SCOPES)),
  token_ttl_s: z.nullable(z.int()),
  active: z.boolean(),
  created_at: timestampSchema,
  created_by: z.string(),
  deleted_at: z.nullable(timestampSchema),
  deleted_by: z.nullable(z.string()),
});
export const trustPolicyListSchema = z.strictObject({ items: z.array(trustPolicyViewSchema) });

export const oidcTokenViewSchema = z.strictObject({
  access_token: z
    .string()
    .check(z.meta({ description: 'A BuildState JWT; send it as Authorization: Bearer' })),
  token_type: z.literal('Bearer'),
  expires_in: z.int(),
  expires_at: timestampSchema,
  scope: z.string().check(z.meta({ description: 'Space-separated scopes (as POST /auth/token)' })),
  scopes: z.array(z.enum(SCOPES)),
  policy: z.string().check(z.meta({ description: 'The trust policy the token matched' })),
});

export const trustPolicyView = (p: TrustPolicyRecord): z.infer<typeof trustPolicyViewSchema> => ({
  id: p.id,
  issuer: p.issuer,
  audience: p.audience,
  claims: p.claims,
  scopes: p.scopes,
  token_ttl_s: p.token_ttl_s,
  active: p.deleted_at === null,
  created_at: p.created_at,
  created_by: p.created_by,
  deleted_at: p.deleted_at,
  deleted_by: p.deleted_by,
});

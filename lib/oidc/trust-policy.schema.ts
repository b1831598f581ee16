/** POST /trust-policies: which OIDC tokens BuildState exchanges for its own, and with what scopes. */
import { SCOPES } from '../auth/principal';
import * as z from '../zod';

export const trustPolicyIdSchema = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'must be 2-64 lowercase letters, digits or "-"'));

/** A claim condition: the exact value, or `{"glob": "..."}` where `*` is any run of characters and `?` one. */
export const claimConditionSchema = z.union([
  z.string().check(z.minLength(1)).check(z.maxLength(512)),
  z.strictObject({ glob: z.string().check(z.minLength(1)).check(z.maxLength(512)) }),
]);
export type ClaimCondition = z.infer<typeof claimConditionSchema>;

export const createTrustPolicySchema = z.strictObject({
  id: trustPolicyIdSchema,
  issuer: z.url().check(z.maxLength(512)),
  audience: z.string().check(z.minLength(1)).check(z.maxLength(512)),
  claims: z.record(z.string().check(z.minLength(1)).check(z.maxLength(128)), claimConditionSchema),
  scopes: z.array(z.enum(SCOPES)).check(z.minLength(1, 'name at least one scope')).check(z.maxLength(3)),
  token_ttl_s: z.optional(z.number().check(z.int()).check(z.gte(60)).check(z.lte(3600))),
});
export type NewTrustPolicy = z.infer<typeof createTrustPolicySchema>;

export const oidcExchangeSchema = z.strictObject({
  token: z.string().check(z.minLength(1)).check(z.maxLength(16384)),
});

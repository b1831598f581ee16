/** Trust policies and the OIDC token exchange. No idempotent replay: a replayed answer would store a token. */
import { includeQuerySchema } from '../../lib/auth/identity.schema';
import { trustPolicies } from '../../lib/compose/oidc';
import { dispatch } from '../../lib/http/dispatch';
import { fromOutcome, httpHandler, parseBody, parseQuery, pathParam } from '../../lib/http/handler';
import { OIDC_ROUTES } from '../../lib/http/oidc.routes';
import {
  createTrustPolicySchema,
  oidcExchangeSchema,
  trustPolicyIdSchema,
} from '../../lib/oidc/trust-policy.schema';
import { created } from '../../lib/outcome';

export const handler = dispatch('oidc', OIDC_ROUTES, {
  exchangeOidcToken: httpHandler(async (req) =>
    fromOutcome(
      req,
      { body: await trustPolicies().exchange(parseBody(req, oidcExchangeSchema).token) },
      { 'cache-control': 'no-store' },
    ),
  ),
  createTrustPolicy: httpHandler(async (req) => {
    const policy = await trustPolicies().create(parseBody(req, createTrustPolicySchema), req.principal);
    return fromOutcome(req, created(policy), { location: `/trust-policies/${policy.id}` });
  }),
  listTrustPolicies: httpHandler(async (req) => {
    const q = parseQuery(req, includeQuerySchema('include_deleted'));
    return fromOutcome(req, { body: { items: await trustPolicies().list(q.include_deleted === 'true') } });
  }),
  getTrustPolicy: httpHandler(async (req) =>
    fromOutcome(req, { body: await trustPolicies().get(pathParam(req, 'id', trustPolicyIdSchema)) }),
  ),
  deleteTrustPolicy: httpHandler(async (req) =>
    fromOutcome(req, {
      body: await trustPolicies().delete(pathParam(req, 'id', trustPolicyIdSchema), req.principal),
    }),
  ),
});

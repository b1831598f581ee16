/** Trust policies and the OIDC token exchange. No idempotent replay: a replayed answer would store a token. */
import { includeQuerySchema } from '../../lib/auth/identity.schema';
import { trustPolicies } from '../../lib/compose/oidc';
import { dispatch } from '../../lib/http/dispatch';
import { httpHandler, parseBody, parseQuery, pathParam } from '../../lib/http/handler';
import { OIDC_ROUTES } from '../../lib/http/oidc.routes';
import {
  createTrustPolicySchema,
  oidcExchangeSchema,
  trustPolicyIdSchema,
} from '../../lib/oidc/trust-policy.schema';

export const handler = dispatch('oidc', OIDC_ROUTES, {
  exchangeOidcToken: httpHandler(async (req) => ({
    status: 200,
    body: await trustPolicies().exchange(parseBody(req, oidcExchangeSchema).token),
    headers: { 'cache-control': 'no-store' },
  })),
  createTrustPolicy: httpHandler(async (req) => {
    const policy = await trustPolicies().create(parseBody(req, createTrustPolicySchema), req.principal);
    return { status: 201, body: policy, headers: { location: `/trust-policies/${policy.id}` } };
  }),
  listTrustPolicies: httpHandler(async (req) => {
    const q = parseQuery(req, includeQuerySchema('include_deleted'));
    return { status: 200, body: { items: await trustPolicies().list(q.include_deleted === 'true') } };
  }),
  getTrustPolicy: httpHandler(async (req) => ({
    status: 200,
    body: await trustPolicies().get(pathParam(req, 'id', trustPolicyIdSchema)),
  })),
  deleteTrustPolicy: httpHandler(async (req) => ({
    status: 200,
    body: await trustPolicies().delete(pathParam(req, 'id', trustPolicyIdSchema), req.principal),
  })),
});

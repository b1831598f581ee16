/**
 * The oidc group: trust policies (admin) and the exchange of a CI job's OIDC token for a BuildState
 * token. A function of its own: it needs egress to the issuers' JWKS and keeps their keys in memory.
 */

import { includeQuerySchema } from '../auth/identity.schema';
import {
  createTrustPolicySchema,
  oidcExchangeSchema,
  trustPolicyIdSchema,
} from '../oidc/trust-policy.schema';
import { oidcTokenViewSchema, trustPolicyListSchema, trustPolicyViewSchema } from '../oidc/trust-policy.view';
import { created, ok, type Route } from './route';

export const OIDC_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/auth/oidc',
    group: 'oidc',
    handler: 'exchangeOidcToken',
    scope: 'none',
    summary:
      "Exchange a CI job's OIDC token for a BuildState token with the scopes of the trust policy it matches",
    request: { body: oidcExchangeSchema },
    responses: {
      200: ok('A Bearer token and the policy it matched', oidcTokenViewSchema, ['Cache-Control']),
    },
    errors: ['unauthorized', 'forbidden'],
  },
  {
    method: 'POST',
    path: '/trust-policies',
    group: 'oidc',
    handler: 'createTrustPolicy',
    scope: 'admin',
    summary:
      'Create a trust policy (which OIDC tokens are exchanged, with what scopes); unsafe ones are refused',
    request: { body: createTrustPolicySchema },
    responses: { 201: created('The policy', trustPolicyViewSchema, ['Location']) },
    errors: ['already_exists'],
  },
  {
    method: 'GET',
    path: '/trust-policies',
    group: 'oidc',
    handler: 'listTrustPolicies',
    scope: 'admin',
    summary: 'List trust policies (active only unless include_deleted=true)',
    request: { query: includeQuerySchema('include_deleted') },
    responses: { 200: ok('The policies', trustPolicyListSchema) },
  },
  {
    method: 'GET',
    path: '/trust-policies/{id}',
    group: 'oidc',
    handler: 'getTrustPolicy',
    scope: 'admin',
    summary: 'One trust policy (deleted ones too)',
    request: { path: { id: trustPolicyIdSchema } },
    responses: { 200: ok('The policy', trustPolicyViewSchema) },
    errors: ['not_found'],
  },
  {
    method: 'DELETE',
    path: '/trust-policies/{id}',
    group: 'oidc',
    handler: 'deleteTrustPolicy',
    scope: 'admin',
    summary: 'Delete a trust policy (soft); the tokens it issued stop working',
    request: { path: { id: trustPolicyIdSchema } },
    responses: { 200: ok('The policy, deleted', trustPolicyViewSchema) },
    errors: ['not_found'],
  },
];

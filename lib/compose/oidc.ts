/** Trust policies and the OIDC exchange (the oidc function, the authorizer, the local gateway). */
import { IssuerKeys } from '../oidc/issuer-keys';
import { TrustPolicyRepository } from '../oidc/trust-policy.repository';
import { TrustPolicyService } from '../oidc/trust-policy.service';
import { tokens } from './identity';
import { db, once, runtimeConfig } from './store';

export const trustPolicyRepository = /* @__PURE__ */ once(
  () => new TrustPolicyRepository(db(), runtimeConfig().tableName),
);

export const trustPolicies = /* @__PURE__ */ once(
  () =>
    new TrustPolicyService(trustPolicyRepository(), new IssuerKeys(), (subject, scopes, ttl, policy) =>
      tokens().issueForPolicy(subject, scopes, ttl, policy),
    ),
);

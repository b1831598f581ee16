/**
 * The CI platforms whose OIDC issuer every one of their customers can get tokens from (lib/oidc's
 * trust-policy rules and the environment's single issuer both refuse such an issuer without a
 * tenant binding). Plain data, here so the configuration can check it without depending on lib/oidc.
 */
/** Issuers whose tokens every customer of the platform can get: a policy must name the tenant. */
export interface SharedIssuer {
  name: string;
  matches: (issuer: string) => boolean;
  /** Claims whose condition pins the tenant, and the literal prefix a glob of it must start with. */
  tenantClaims: Record<string, RegExp | 'exact'>;
  hint: string;
}

const same = (url: string) => (issuer: string) => issuer.replace(/\/+$/, '') === url;

export const SHARED_ISSUERS: readonly SharedIssuer[] = [
  {
    name: 'GitHub Actions',
    matches: same('https://token.actions.githubusercontent.com'),
    tenantClaims: {
      repository_owner_id: 'exact',
      repository_id: 'exact',
      repository: /^[^/*?]+\//,
      repository_owner: 'exact',
      sub: /^repo:[^/*?:]+\//,
    },
    hint: 'bind repository_owner_id (exact), repository (exact or "ORG/*") or sub ("repo:ORG/...")',
  },
  {
    name: 'GitLab.com',
    matches: same('https://gitlab.com'),
    tenantClaims: {
      namespace_id: 'exact',
      project_id: 'exact',
      project_path: /^[^/*?]+\//,
      namespace_path: /^[^*?]+$/,
      sub: /^project_path:[^/*?:]+\//,
    },
    hint: 'bind namespace_id (exact), project_path (exact or "GROUP/*") or sub ("project_path:GROUP/...")',
  },
  {
    name: 'Buildkite',
    matches: same('https://agent.buildkite.com'),
    tenantClaims: { organization_slug: 'exact', sub: /^organization:[^:*?]+:/ },
    hint: 'bind organization_slug (exact) or sub ("organization:ORG:...")',
  },
  {
    // The org id is part of CircleCI's issuer: the issuer is the tenant binding.
    name: 'CircleCI',
    matches: (issuer) => /^https:\/\/oidc\.circleci\.com(\/|$)/.test(issuer),
    tenantClaims: {},
    hint: 'use the issuer of your organisation, https://oidc.circleci.com/org/<org-id>',
  },
];

/**
 * What makes a trust policy unsafe, as pure functions (the known ways OIDC trust went wrong: a
 * policy that binds no subject or tenant lets every repository of the platform in; a glob that
 * matches anything binds nothing; `http` issuers can be impersonated on the way).
 */
import { SHARED_ISSUERS } from '../config/shared-issuers';
import type { ClaimCondition } from './trust-policy.schema';

export { SHARED_ISSUERS, type SharedIssuer } from '../config/shared-issuers';

export interface PolicyProblem {
  field: string;
  message: string;
}

const CIRCLECI_ORG = /^https:\/\/oidc\.circleci\.com\/org\/[0-9a-f-]{36}$/;

/** `*` and `?` only (or nothing literal at all): it would match any value. */
export const globMatchesEverything = (pattern: string) => pattern.replace(/[*?]/g, '') === '';

export const globToRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('')}$`,
    's',
  );

/** The literal part of a glob before its first wildcard (all of it for an exact value). */
const literalPrefix = (condition: ClaimCondition) =>
  typeof condition === 'string' ? condition : condition.glob.split(/[*?]/)[0]!;

export const isLoopback = (url: URL) =>
  ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || /^127\./.test(url.hostname);

/** https, or http on loopback (tests, local mode). */
export function issuerUrlProblem(issuer: string): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopback(url)) return null;
  return 'must be an https URL (http only on loopback, for tests)';
}

export function policyProblems(policy: {
  issuer: string;
  audience: string;
  claims: Record<string, ClaimCondition>;
}): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const issuerProblem = issuerUrlProblem(policy.issuer);
  if (issuerProblem) problems.push({ field: 'issuer', message: issuerProblem });
  if (/^https?:\/\/[^/]*\.amazonaws\.com\/?$|^sts\.amazonaws\.com$/.test(policy.audience))
    problems.push({
      field: 'audience',
      message: "is another service's audience: choose one of your own for BuildState (e.g. its URL)",
    });
  const entries = Object.entries(policy.claims);
  if (entries.length === 0)
    problems.push({
      field: 'claims',
      message: 'name at least one claim condition (a policy without one trusts every token of the issuer)',
    });
  for (const [claim, condition] of entries)
    if (typeof condition !== 'string' && globMatchesEverything(condition.glob))
      problems.push({
        field: `claims.${claim}`,
        message: 'this glob matches every value; name a literal part',
      });
  const shared = SHARED_ISSUERS.find((s) => s.matches(policy.issuer));
  if (shared?.name === 'CircleCI') {
    if (!CIRCLECI_ORG.test(policy.issuer))
      problems.push({ field: 'issuer', message: `CircleCI: ${shared.hint}` });
  } else if (shared) {
    const bound = entries.some(([claim, condition]) => {
      const rule = shared.tenantClaims[claim];
      if (!rule) return false;
      if (rule === 'exact') return typeof condition === 'string';
      return rule.test(literalPrefix(condition));
    });
    if (!bound)
      problems.push({
        field: 'claims',
        message: `${shared.name}'s issuer is shared by every customer: ${shared.hint}`,
      });
  }
  return problems;
}

/** Whether a token's claims meet every condition (a missing claim never does). */
export function claimsMatch(conditions: Record<string, ClaimCondition>, payload: Record<string, unknown>) {
  return Object.entries(conditions).every(([claim, condition]) => {
    const value = payload[claim];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
    const text = String(value);
    return typeof condition === 'string' ? text === condition : globToRegExp(condition.glob).test(text);
  });
}

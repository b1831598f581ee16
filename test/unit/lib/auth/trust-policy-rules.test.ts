import {
  claimsMatch,
  globMatchesEverything,
  issuerUrlProblem,
  policyProblems,
} from '../../../../lib/oidc/trust-policy.rules';

const GITHUB = 'https://token.actions.githubusercontent.com';

describe('trust policy rules', () => {
  it.each([
    ['*', true],
    ['**', true],
    ['?*', true],
    ['???', true],
    ['acme/*', false],
    ['*-prod', false],
  ])('globMatchesEverything(%s) = %s', (glob, expected) => {
    expect(globMatchesEverything(glob)).toBe(expected);
  });

  it.each([
    ['https://idp.example.com', null],
    ['http://127.0.0.1:8080', null],
    ['http://localhost:9000', null],
    ['http://idp.example.com', 'must be an https URL (http only on loopback, for tests)'],
    ['ftp://idp.example.com', 'must be an https URL (http only on loopback, for tests)'],
  ])('issuer %s', (issuer, problem) => {
    expect(issuerUrlProblem(issuer)).toBe(problem);
  });

  it.each([
    [{ repository_owner_id: '42' }, []],
    [{ repository: 'acme/app' }, []],
    [{ repository: { glob: 'acme/*' } }, []],
    [{ sub: { glob: 'repo:acme/*:ref:refs/heads/main' } }, []],
    [{ repository_owner_id: { glob: '4*' } }, ['claims']],
    [{ repository: { glob: 'acme*' } }, ['claims']],
    [{ sub: { glob: 'repo:*/app:*' } }, ['claims']],
    [{ ref: 'refs/heads/main', environment: 'prod' }, ['claims']],
    [{}, ['claims', 'claims']],
  ])('GitHub policy binding %j: problems on %j', (claims, fields) => {
    expect(policyProblems({ issuer: GITHUB, audience: 'bs', claims }).map((p) => p.field)).toEqual(fields);
  });

  it('an own issuer needs a claim condition but no tenant claim', () => {
    expect(
      policyProblems({ issuer: 'https://ci.example.com', audience: 'bs', claims: { sub: 'team/p' } }),
    ).toEqual([]);
    expect(policyProblems({ issuer: 'https://ci.example.com', audience: 'bs', claims: {} })).toHaveLength(1);
  });

  it('claims match exactly or by glob; a missing or object claim never matches', () => {
    const token = {
      repository: 'acme/app',
      repository_owner_id: 42,
      ref: 'refs/heads/main',
      nested: { a: 1 },
    };
    expect(claimsMatch({ repository: 'acme/app', repository_owner_id: '42' }, token)).toBe(true);
    expect(claimsMatch({ ref: { glob: 'refs/heads/*' } }, token)).toBe(true);
    expect(claimsMatch({ ref: { glob: 'refs/tags/*' } }, token)).toBe(false);
    expect(claimsMatch({ repository: 'acme/ap' }, token)).toBe(false);
    expect(claimsMatch({ environment: 'prod' }, token)).toBe(false);
    expect(claimsMatch({ nested: '[object Object]' }, token)).toBe(false);
    // Regex characters in a glob are literal.
    expect(claimsMatch({ repository: { glob: 'acme.app' } }, token)).toBe(false);
    expect(claimsMatch({ repository: { glob: 'acme/a?p' } }, token)).toBe(true);
  });
});

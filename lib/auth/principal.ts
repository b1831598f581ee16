export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** `admin` ⊃ `write` ⊃ `read`: a scope grants itself and every scope below it. */
const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

export const hasScope = (principal: Pick<Principal, 'scopes'>, required: Scope): boolean =>
  principal.scopes.some((s) => RANK[s] >= RANK[required]);

/** Who made a request. `id` is recorded as the `actor` of every change it makes. */
export interface Principal {
  id: string;
  type: 'api_key' | 'user' | 'oidc' | 'iam' | 'system';
  name: string;
  scopes: Scope[];
}

/** What the Lambda authorizer hands API Gateway, which passes it to handlers as requestContext.authorizer.lambda. */
export interface AuthorizerContext {
  principal_id: string;
  principal_name: string;
  principal_type: Principal['type'];
  /** Comma-separated: authorizer context values must be scalars. */
  scopes: string;
}

export const toAuthorizerContext = (p: Principal): AuthorizerContext => ({
  principal_id: p.id,
  principal_name: p.name,
  principal_type: p.type,
  scopes: p.scopes.join(','),
});

/**
 * The principal API Gateway already authenticated, if any: the Lambda authorizer's context on the
 * key/JWT API, or the caller's IAM identity on the SigV4 API (mapped to read and write).
 */
export function principalFromGateway(authorizer: unknown): Principal | null {
  const a = authorizer as { lambda?: Partial<AuthorizerContext>; iam?: { userArn?: string } } | undefined;
  if (a?.lambda?.principal_id) {
    const scopes = (a.lambda.scopes ?? '')
      .split(',')
      .filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
    return {
      id: a.lambda.principal_id,
      type: a.lambda.principal_type ?? 'api_key',
      name: a.lambda.principal_name ?? a.lambda.principal_id,
      scopes,
    };
  }
  if (a?.iam?.userArn)
    return { id: `iam:${a.iam.userArn}`, type: 'iam', name: a.iam.userArn, scopes: ['write', 'read'] };
  return null;
}

/** The service itself, for changes no caller asked for (bootstrap seeding). */
export const SYSTEM_PRINCIPAL: Principal = {
  id: 'system:bootstrap',
  type: 'system',
  name: 'bootstrap',
  scopes: ['admin'],
};

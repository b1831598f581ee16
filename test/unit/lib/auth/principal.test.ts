import { principalFromGateway, toAuthorizerContext } from '../../../../lib/auth/principal';

describe('principalFromGateway', () => {
  it('reads the Lambda authorizer context, keeping only known scopes', () => {
    expect(
      principalFromGateway({
        lambda: { principal_id: 'key:ci', principal_name: 'ci', scopes: 'write,read,root' },
      }),
    ).toEqual({
      id: 'key:ci',
      type: 'api_key',
      name: 'ci',
      scopes: ['write', 'read'],
    });
  });

  it('maps an IAM caller to a write principal named by its ARN', () => {
    const arn = 'arn:aws:sts::123456789012:assumed-role/concourse-worker/i-0abc';
    expect(principalFromGateway({ iam: { userArn: arn } })).toEqual({
      id: `iam:${arn}`,
      type: 'iam',
      name: arn,
      scopes: ['write', 'read'],
    });
  });

  it('finds nothing when API Gateway authenticated nobody (local gateway, open routes)', () => {
    expect(principalFromGateway(undefined)).toBeNull();
    expect(principalFromGateway({})).toBeNull();
    expect(principalFromGateway({ lambda: {} })).toBeNull();
  });

  it('round-trips through the authorizer context', () => {
    const p = {
      id: 'key:x',
      type: 'api_key' as const,
      name: 'x',
      scopes: ['admin' as const, 'read' as const],
    };
    expect(principalFromGateway({ lambda: toAuthorizerContext(p) })).toEqual(p);
  });
});

/** The API-key Lambda authorizer against the real table, and handlers trusting its context. */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { handler as authorize } from '../../../functions/authorizer/index';
import { handler as builds } from '../../../functions/builds/index';
import { httpEvent, lambdaContext } from '../../helpers/events';
import { ADMIN_ACTOR, ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const authEvent = (key?: string) =>
  ({ headers: key ? { 'x-api-key': key } : {} }) as unknown as APIGatewayRequestAuthorizerEventV2;

it('authorizes a stored key with its principal and refuses others', async () => {
  expect(await authorize(authEvent(ADMIN_KEY), lambdaContext)).toEqual({
    isAuthorized: true,
    context: {
      principal_id: ADMIN_ACTOR,
      principal_name: 'bootstrap admin (env)',
      principal_type: 'api_key',
      scopes: 'admin,write,read',
    },
  });
  expect(await authorize(authEvent('bst_unknown'), lambdaContext)).toEqual({
    isAuthorized: false,
    context: {},
  });
  expect(await authorize(authEvent(), lambdaContext)).toEqual({ isAuthorized: false, context: {} });
});

it('authorizes a Bearer JWT as its user and refuses a forged one', async () => {
  const user = {
    username: 'authz',
    email: 'authz@example.com',
    password: 'authorizer password',
    scopes: ['read'],
  };
  expect((await stack.call('POST', '/users', user)).status).toBe(201);
  const token = (await stack.call('POST', '/auth/token', { username: 'authz', password: user.password })).body
    .access_token as string;
  const bearer = (t: string) =>
    ({ headers: { authorization: `Bearer ${t}` } }) as unknown as APIGatewayRequestAuthorizerEventV2;
  expect(await authorize(bearer(token), lambdaContext)).toEqual({
    isAuthorized: true,
    context: { principal_id: 'user:authz', principal_name: 'authz', principal_type: 'user', scopes: 'read' },
  });
  expect(await authorize(bearer(`${token.slice(0, -4)}AAAA`), lambdaContext)).toEqual({
    isAuthorized: false,
    context: {},
  });
});

it('lets handlers act as the principal the authorizer (or IAM) established, without a key', async () => {
  const viaLambda = httpEvent('POST', '/builds', {
    body: JSON.stringify({ platform_id: 'aws', image_type_id: 'x' }),
  });
  (viaLambda.requestContext as unknown as { authorizer: unknown }).authorizer = {
    lambda: { principal_id: 'key:ci', principal_name: 'ci', scopes: 'write,read' },
  };
  const created = await builds(viaLambda, lambdaContext);
  expect(created.statusCode).toBe(201);
  expect(JSON.parse(created.body!).created_by).toBe('key:ci');

  const viaIam = httpEvent('POST', '/builds', {
    body: JSON.stringify({ platform_id: 'aws', image_type_id: 'x' }),
  });
  (viaIam.requestContext as unknown as { authorizer: unknown }).authorizer = {
    iam: { userArn: 'arn:aws:iam::1:role/w' },
  };
  expect(JSON.parse((await builds(viaIam, lambdaContext)).body!).created_by).toBe(
    'iam:arn:aws:iam::1:role/w',
  );

  const anonymous = await builds(httpEvent('POST', '/builds', { body: '{}' }), lambdaContext);
  expect(anonymous.statusCode).toBe(401);
});

/** An unreachable table is a 503 with Retry-After, never a 500. */
import { freePort } from '../../../local/processes';
import { httpEvent, lambdaContext } from '../../helpers/events';

it('answers 503 unavailable when DynamoDB cannot be reached', async () => {
  process.env.BUILDSTATE_DYNAMODB_ENDPOINT = `http://127.0.0.1:${await freePort()}`;
  process.env.BUILDSTATE_TABLE_NAME = 'nowhere';
  process.env.BUILDSTATE_ARTIFACTS_BUCKET = 'nowhere';
  const { handler } = await import('../../../functions/states/index');
  const event = httpEvent('POST', '/builds/{id}/states', {
    rawPath: '/builds/b-1/states',
    body: '{"state_code":5,"status":"in_progress"}',
    headers: { 'x-api-key': 'bst_anything' },
  });
  // Behind API Gateway the authorizer has already established the caller.
  (event.requestContext as unknown as { authorizer: unknown }).authorizer = {
    lambda: { principal_id: 'key:ci', principal_name: 'ci', scopes: 'write,read' },
  };
  const result = await handler({ ...event, pathParameters: { id: 'b-1' } }, lambdaContext);
  expect(result.statusCode).toBe(503);
  expect(result.headers).toMatchObject({ 'retry-after': '1' });
  expect(JSON.parse(result.body!).error.code).toBe('unavailable');
});

it('answers 503 when the table does not exist', async () => {
  const { handler } = await import('../../../functions/system/index');
  process.env.BUILDSTATE_DYNAMODB_ENDPOINT = process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT;
  jest.resetModules();
  const fresh = (await import('../../../functions/system/index')).handler;
  expect(fresh).not.toBe(handler);
  const ready = httpEvent('GET', '/ready');
  (ready.requestContext as unknown as { authorizer: unknown }).authorizer = {
    lambda: { principal_id: 'key:ci', principal_name: 'ci', scopes: 'read' },
  };
  const result = await fresh(ready, lambdaContext);
  expect(result.statusCode).toBe(503);
});

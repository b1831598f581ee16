/**
 * A Lambda bundle, built with the stack's bundling choices (infra/bundling/lambda-bundling.ts: the
 * SDK clients bundled, the credential sources a Lambda never reaches left out), runs: in a fresh
 * Node process with only Lambda's environment, the system function answers GET /ready through the
 * SDK's DynamoDB client with the environment's credentials (the default chain's first source), and
 * logs with the Lambda context (Powertools' injectLambdaContext), tracing off and silent outside
 * Lambda's own runtime.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../../../infra/bundling/lambda-bundling';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

const root = resolve(__dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'bs-bundle-'));
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (bundle: string, env: Record<string, string>) =>
  spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { handler } = await import(${JSON.stringify(bundle)});
       const event = { version: '2.0', routeKey: 'GET /ready', rawPath: '/ready', headers: {},
         requestContext: { requestId: 'req-7', http: { method: 'GET', path: '/ready' },
           authorizer: { lambda: { principal_id: 'key:ci', scopes: 'read' } } } };
       const r = await handler(event, { awsRequestId: 'req-7', functionName: 'system', getRemainingTimeInMillis: () => 20000 });
       console.log(JSON.stringify({ status: r.statusCode, body: JSON.parse(r.body) }));`,
    ],
    { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' },
  );

it('runs the system function bundle with environment credentials against the real engine', async () => {
  const bundle = join(dir, 'index.mjs');
  await build(lambdaEsbuildOptions(join(root, 'functions/system/index.ts'), bundle));
  const lambdaEnv = {
    AWS_REGION: 'us-east-1',
    // The SDK's own endpoint override, so the client keeps its default credential chain.
    AWS_ENDPOINT_URL_DYNAMODB: process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT!,
    BUILDSTATE_TABLE_NAME: stack.tableName,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  await services().ready();
  const ok = invoke(bundle, {
    ...lambdaEnv,
    AWS_ACCESS_KEY_ID: 'buildstate',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  expect(JSON.parse(ok.stdout.trim().split('\n').at(-1)!)).toEqual({
    status: 200,
    body: { status: 'ready', checks: { table: 'ok' } },
  });
  // Tracing is off outside Lambda, and says nothing about it.
  expect(ok.stderr).toBe('');
  // Without credentials in the environment (never so in Lambda) the chain goes on to the shared
  // config files' source, which the bundle leaves out: it cannot sign, a 500 that says why in the
  // log, with the context, not a 503 that tells callers to retry.
  const none = invoke(bundle, lambdaEnv);
  expect(JSON.parse(none.stdout.trim().split('\n').at(-1)!).status).toBe(500);
  const logged = `${none.stdout}\n${none.stderr}`
    .split('\n')
    .filter((l) => l.startsWith('{"level"'))
    .map((l) => JSON.parse(l));
  expect(logged[0]).toMatchObject({
    function_request_id: 'req-7',
    function_name: 'system',
    cold_start: expect.any(Boolean),
    error: { message: expect.stringContaining('@aws-sdk/credential-provider-ini') },
  });
}, 60_000);

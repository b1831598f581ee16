/**
 * A Lambda bundle, built with the stack's bundling choices (infra/bundling/lambda-bundling.ts: the
 * SDK clients bundled, the credential sources a Lambda never reaches left out, the S3 client's unused
 * operation schemas dropped by the sdk-literal-keys plugin), runs: in a fresh Node process with only
 * Lambda's environment, the system function answers GET /ready through the SDK's DynamoDB client
 * with the environment's credentials (the default chain's first source), and logs with the Lambda
 * context (Powertools' injectLambdaContext), tracing off and silent outside Lambda's own runtime.
 * The artifacts function registers, presigns and verifies an artifact against the local S3 server,
 * so a schema the plugin broke (a wrong key, a dropped operation the function calls) fails here.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../../../infra/bundling/lambda-bundling';
import { ENV } from '../../../lib/config/env';
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

interface Request {
  method: string;
  route: string;
  path: string;
  pathParameters?: Record<string, string>;
  body?: unknown;
  scopes?: string;
}

/**
 * One API Gateway (HTTP API, payload 2.0) request to a bundle's handler, in a fresh Node process.
 * Asynchronous: the local S3 server runs in this process and must answer while the bundle waits.
 */
const invoke = async (
  bundle: string,
  env: Record<string, string>,
  request: Request = { method: 'GET', route: '/ready', path: '/ready' },
) => {
  const event = {
    version: '2.0',
    routeKey: `${request.method} ${request.route}`,
    rawPath: request.path,
    rawQueryString: '',
    headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-7',
      http: { method: request.method, path: request.path },
      authorizer: { lambda: { principal_id: 'key:ci', scopes: request.scopes ?? 'read' } },
    },
  };
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { handler } = await import(${JSON.stringify(bundle)});
       const r = await handler(${JSON.stringify(event)}, { awsRequestId: 'req-7', functionName: 'system', getRemainingTimeInMillis: () => 20000 });
       console.log(JSON.stringify({ status: r.statusCode, body: JSON.parse(r.body) }));`,
    ],
    { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const status = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', done);
  });
  return { status, stdout, stderr };
};
const answer = (run: Awaited<ReturnType<typeof invoke>>) => {
  const last = run.stdout.trim().split('\n').at(-1);
  if (run.status !== 0 || !last) throw new Error(`the bundle failed (${run.status}): ${run.stderr}`);
  return JSON.parse(last) as { status: number; body: Record<string, unknown> };
};

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
  const ok = await invoke(bundle, {
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
  const none = await invoke(bundle, lambdaEnv);
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

it('runs the artifacts function bundle against the local S3 server: register, upload, verify, read', async () => {
  const bundle = join(dir, 'artifacts', 'index.mjs');
  await build(lambdaEsbuildOptions(join(root, 'functions/artifacts/index.ts'), bundle));
  // The bundle holds the S3 client without the schemas of operations the function never calls.
  const code = readFileSync(bundle, 'utf8');
  expect(code).toContain('AmazonS3');
  expect(code).not.toContain('SelectObjectContent');

  const id = 'bundled-artifacts';
  expect(
    (await stack.call('POST', '/builds', { id, platform_id: 'aws', image_type_id: 'rhel9' })).status,
  ).toBe(201);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'in_progress' })).status,
  ).toBe(201);
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'buildstate',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT!,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [ENV.tableName]: stack.tableName,
    [ENV.s3Endpoint]: process.env[ENV.s3Endpoint]!,
    [ENV.artifactsBucket]: process.env[ENV.artifactsBucket]!,
    [ENV.presignExpirySeconds]: '600',
  };
  const bytes = randomBytes(4096);
  const checksum = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const artifact = { id, code: '10', name: 'disk.raw' };
  // PutObject, presigned with its checksum header.
  const registered = answer(
    await invoke(bundle, env, {
      method: 'POST',
      route: '/builds/{id}/states/{code}/artifacts',
      path: `/builds/${id}/states/10/artifacts`,
      pathParameters: { id, code: '10' },
      body: { name: 'disk.raw', storage_type: 's3', size_bytes: bytes.length, checksum },
      scopes: 'write',
    }),
  );
  expect(registered.status).toBe(201);
  const upload = registered.body.upload as { url: string; headers: Record<string, string> };
  const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes });
  expect(put.status).toBe(200);
  // HeadObject and GetObject of what was uploaded: size, checksum and the object's metadata.
  const verified = answer(
    await invoke(bundle, env, {
      method: 'POST',
      route: '/builds/{id}/states/{code}/artifacts/{name}/verify',
      path: `/builds/${id}/states/10/artifacts/disk.raw/verify`,
      pathParameters: artifact,
      scopes: 'write',
    }),
  );
  expect(verified).toMatchObject({ status: 200, body: { verified: true } });
  const read = answer(
    await invoke(bundle, env, {
      method: 'GET',
      route: '/builds/{id}/states/{code}/artifacts/{name}',
      path: `/builds/${id}/states/10/artifacts/disk.raw`,
      pathParameters: artifact,
    }),
  );
  expect(read).toMatchObject({
    status: 200,
    body: { name: 'disk.raw', verified: true, size_bytes: bytes.length },
  });
  // The presigned download (GetObject) gives back exactly the uploaded bytes.
  const got = await fetch((read.body.download as { url: string }).url);
  expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);
}, 60_000);

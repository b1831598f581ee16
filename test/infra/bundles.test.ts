/**
 * The deployable artifacts themselves: `cdk synth` through the pinned CLI, offline, then every
 * function bundle loaded in a fresh Node process, as Lambda would load it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROUTES } from '../../lib/http/routes';
import { SWAGGER_UI_FILES } from '../../web/api-docs';

const root = resolve(__dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'bs-cdk-out-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * Minified bundle sizes (deterministic for a given lock file). Every function bundles the AWS SDK v3
 * clients it calls, middy and Powertools (logger, metrics, tracer with the X-Ray SDK): the goal is
 * 600 KB, and every function is held to it but two. States and artifacts (640 KB) miss it: a probe with only the DynamoDB and S3 clients, middy and Powertools is
 * ~450 KB by itself (the X-Ray SDK is ~77 KB of every bundle), zod ~41 KB, and their own code
 * 110–127 KB (npm run bench:bundles prints the misses; docs/TESTING.md has the breakdown). Their
 * bound is a ceiling against growth, not the goal. What brought the others with the S3 client
 * within it: the S3 client's unused operation schemas are dropped (infra/bundling/sdk-literal-keys.ts,
 * ~48 KB), and so are the composition factories a function never calls (lib/compose: the
 * provenance functions no longer carry the build service, nor does the upload completer:
 * lib/compose/upload-completion.ts, 623 → 572 KB); every function also sheds all of
 * semver but the `gte` the X-Ray SDK calls (infra/bundling/xray-semver.ts, ~20 KB).
 */
const GOAL_KB = 600;
const OVER_GOAL = ['States', 'Artifacts'];
const OVER_GOAL_CEILING_KB = 645;

/** Without a network at all where the machine allows it (a private network namespace). */
const offline = spawnSync('unshare', ['-n', 'true']).status === 0 ? ['unshare', '-n'] : [];

/**
 * The deployed dashboard bundle answers GET /openapi.json (bundled), /docs with its files and the
 * web dashboard (/ and /web/{asset}, from web/ beside the bundle, built by scripts/build-web.mjs)
 * (beside the bundle, found through LAMBDA_TASK_ROOT as in Lambda), in a fresh process.
 */
function servesDocs(dir: string) {
  const script = `
    const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))});
    const get = (path, routePath, pathParameters) => handler({
      version: '2.0', routeKey: 'GET ' + routePath, rawPath: path, rawQueryString: '', headers: {},
      pathParameters, isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path }, requestId: 'probe' },
    }, {});
    const doc = await get('/openapi.json', '/openapi.json');
    const page = await get('/docs', '/docs');
    const css = await get('/docs/swagger-ui.css', '/docs/{asset}', { asset: 'swagger-ui.css' });
    const js = await get('/docs/swagger-ui-bundle.js', '/docs/{asset}', { asset: 'swagger-ui-bundle.js' });
    const home = await get('/', '/');
    const webCss = await get('/web/dashboard.css', '/web/{asset}', { asset: 'dashboard.css' });
    const webJs = await get('/web/dashboard.js', '/web/{asset}', { asset: 'dashboard.js' });
    const ok = (r, type) => (r.headers['content-type'].startsWith(type) && r.body.length > 1000 ? r.statusCode : -r.statusCode);
    console.log(JSON.stringify({ openapi: JSON.parse(doc.body).openapi, docs: page.statusCode,
      css: ok(css, 'text/css'), script: ok(js, 'text/javascript'),
      dashboard: ok(home, 'text/html'), dashboardCsp: home.headers['content-security-policy'].match(/script-src [^;]*/)[0],
      dashboardCss: ok(webCss, 'text/css'), dashboardScript: ok(webJs, 'text/javascript') }));`;
  const probe = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', LAMBDA_TASK_ROOT: dir, AWS_REGION: 'us-east-1' },
    encoding: 'utf8',
  });
  if (probe.status !== 0) throw new Error(probe.stderr);
  return JSON.parse(probe.stdout.trim().split('\n').pop()!);
}

it('synthesizes with the pinned CLI, offline, and every bundle loads and exports a handler', () => {
  const cdk = join(root, 'node_modules', '.bin', 'cdk');
  const [cmd, ...args] = [...offline, cdk, 'synth', '--quiet', '-o', out, '-c', 'stage=dev'];
  execFileSync(cmd!, args, {
    cwd: root,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    stdio: 'pipe',
  });

  const template = JSON.parse(readFileSync(join(out, 'BuildState-dev-Stateless.template.json'), 'utf8'));
  const functions = Object.entries(
    template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
  ).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const assets = functions.map(([, r]) => join(out, r.Metadata!['aws:asset:path']!));
  // One per function group of the route table, plus the authorizer, the event publisher, the
  // aggregator, the stuck detector, the provenance signer and the upload completer.
  expect(assets).toHaveLength(new Set(ROUTES.map((r) => r.group)).size + 6);

  let withDocs = 0;
  for (const dir of assets) {
    const files = readdirSync(dir).sort();
    // The dashboard function also carries Swagger UI's files for GET /docs (copied from the package)
    // and the OpenAPI document for GET /openapi.json (generated by `npm run openapi`, not bundled),
    // and the web dashboard's page, style sheet and script (built by scripts/build-web.mjs).
    if (files.includes('swagger-ui')) {
      withDocs++;
      expect(readdirSync(join(dir, 'swagger-ui')).sort()).toEqual([...SWAGGER_UI_FILES].sort());
      expect(files).toEqual(['index.mjs', 'index.mjs.map', 'openapi.json', 'swagger-ui', 'web']);
      expect(readdirSync(join(dir, 'web')).sort()).toEqual(['dashboard.css', 'dashboard.js', 'index.html']);
      expect(servesDocs(dir)).toEqual({
        openapi: '3.1.0',
        docs: 200,
        css: 200,
        script: 200,
        dashboard: 200,
        dashboardCsp: "script-src 'self'",
        dashboardCss: 200,
        dashboardScript: 200,
      });
    } else expect(files).toEqual(['index.mjs', 'index.mjs.map']);
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); if (typeof m.handler !== 'function') process.exit(3);`,
      ],
      { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
    );
    expect({ dir, status: probe.status, stderr: probe.stderr }).toEqual({ dir, status: 0, stderr: '' });
  }
  expect(withDocs).toBe(1);
  expect(existsSync(join(out, 'BuildState-dev-Stateful.template.json'))).toBe(true);

  // Each function bundles only what its routes use: bounded sizes, and no code it cannot need.
  const sizes = Object.fromEntries(
    functions.map(([id, r]) => [
      id.replace(/Function[0-9A-F]{8}$/, ''),
      statSync(join(out, r.Metadata!['aws:asset:path']!, 'index.mjs')).size / 1024,
    ]),
  );
  const text = (name: string) => {
    const [, r] = functions.find(([id]) => id.startsWith(`${name}Function`))!;
    return readFileSync(join(out, r.Metadata!['aws:asset:path']!, 'index.mjs'), 'utf8');
  };
  // OVER_GOAL names exactly the functions that miss the goal: one that reaches it leaves the list.
  expect(OVER_GOAL.filter((name) => !(sizes[name]! > GOAL_KB))).toEqual([]);
  for (const [name, size] of Object.entries(sizes)) {
    const code = text(name);
    const bound = OVER_GOAL.includes(name) ? OVER_GOAL_CEILING_KB : GOAL_KB;
    // The size is in both sides so that a failure shows it next to the bound.
    const kb = Math.round(size * 10) / 10;
    expect({ name, kb, withinBound: size <= bound }).toEqual({ name, kb, withinBound: true });
    // The S3 client's schemas of operations no function calls are not bundled (the plugin above):
    // their names survive minification as the schemas' strings.
    expect({
      name,
      unusedS3Schemas: code.match(/SelectObjectContent|PutBucketLifecycleConfiguration/g),
    }).toEqual({ name, unusedS3Schemas: null });
  }
  // Every function calls AWS through the SDK v3 clients, bundled; lib-dynamodb's document client
  // wherever DynamoDB is called, the S3 client only where artifacts are (states, artifacts, the
  // dashboard's bucket check, and provenance envelopes beside the artifacts). Strings that survive minification mark the S3 client (its service
  // id), any client's stack (the user agent of @aws-sdk/core), lib-dynamodb, the X-Ray SDK under
  // Powertools' tracer and the JWT code (jose's error codes), which only the authorizer, the
  // identity function and the OIDC exchange have.
  const S3_FUNCTIONS = [
    'States',
    'Artifacts',
    'Dashboard',
    'Provenance',
    'ProvenanceSigner',
    'UploadCompleter',
  ];
  for (const [id] of functions) {
    const name = id.replace(/Function[0-9A-F]{8}$/, '');
    const code = text(name);
    expect({
      name,
      s3: code.includes('AmazonS3'),
      sdkClient: code.includes('aws-sdk-js'),
      documentClient: code.includes('DynamoDBDocumentClient'),
      xray: code.includes('AWS_XRAY_CONTEXT_MISSING'),
      jose: code.includes('ERR_JWS_SIGNATURE_VERIFICATION_FAILED'),
    }).toEqual({
      name,
      s3: S3_FUNCTIONS.includes(name),
      sdkClient: true,
      // The event publisher only puts events (EventBridge).
      documentClient: name !== 'Publisher',
      xray: true,
      jose: ['Identity', 'Authorizer', 'Oidc'].includes(name),
    });
  }
}, 120_000);

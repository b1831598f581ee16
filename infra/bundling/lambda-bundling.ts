/**
 * The bundling choices of every Lambda (infra/constructs/service-function.ts bundles each function
 * with them through scripts/bundle-lambda.mjs; test/int/local/lambda-bundle.int.test.ts builds a
 * bundle with them and runs it, and bench/bundles.bench.ts bundles its floor probe with them). The AWS SDK v3 clients, middy and
 * Powertools are bundled and minified with the functions' own code, pinned by our lock file rather
 * than the runtime's copy of the SDK, with the SDK's standard credential provider chain.
 */
import type { BuildOptions } from 'esbuild';
import { sdkLiteralKeys } from './sdk-literal-keys';
import { xraySemver } from './xray-semver';

/**
 * Modules left out of every bundle: what the SDK imports lazily (`await import(...)`) and only on
 * a path a Lambda function never takes. The default credential chain reads the environment first,
 * and Lambda always gives a function its role's credentials there (`AWS_ACCESS_KEY_ID` …), so the
 * chain's later sources for shared config files, SSO, sign-in, credential processes and web
 * identity tokens (with the STS and SSO clients they nest: ~70 KB) are never loaded; the container
 * and instance metadata sources stay bundled. `bowser` parses browsers' user agents.
 * (A function given AWS_PROFILE would skip the environment and fail to load them: none is.)
 */
export const EXTERNAL_MODULES: string[] = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  'bowser',
];

/** The Node version the bundles are compiled for (the functions' runtime). */
export const LAMBDA_TARGET = 'node24';

/** CommonJS dependencies inside an ESM bundle (the X-Ray SDK under Powertools' tracer) still call require(). */
export const LAMBDA_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/**
 * The choices as esbuild options (for esbuild's asynchronous API: the plugin needs it). The source
 * map is written beside the bundle (`index.mjs.map`, used with NODE_OPTIONS=--enable-source-maps).
 * The plugins let esbuild drop the SDK operation schemas a function never uses
 * (infra/bundling/sdk-literal-keys.ts) and all of semver but the one function the X-Ray SDK calls
 * (infra/bundling/xray-semver.ts).
 */
export function lambdaEsbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: LAMBDA_TARGET,
    mainFields: ['module', 'main'],
    external: EXTERNAL_MODULES,
    banner: { js: LAMBDA_BANNER },
    sourcemap: true,
    plugins: [sdkLiteralKeys(), xraySemver()],
    logLevel: 'error',
  };
}

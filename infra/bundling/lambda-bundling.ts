/**
 * The bundling choices of every Lambda (infra/constructs/service-function.ts passes them to
 * NodejsFunction; test/int/lambda-bundle.int.test.ts builds a bundle with them and runs it, and
 * bench/bundles.bench.ts bundles its design-floor probe with them).
 */
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';

/** SDK modules only ever imported lazily, for operations BuildState never calls (kept out of bundles). */
export const LAZY_SDK_MODULES = ['@smithy/core/event-streams', 'bowser'] as const;

/** What Lambda bundles use instead of @aws-sdk/credential-provider-node (from the project root, where cdk and the tests run). */
export const LAMBDA_CREDENTIALS = join(process.cwd(), 'infra', 'bundling', 'lambda-credentials.ts');

/**
 * Modules left out of every function's bundle. No function bundles an SDK client (the S3 client
 * imports the event-stream serde statically): their AWS calls are signed requests
 * (lib/artifacts/signed-s3.ts, lib/aws/json-rpc.ts).
 */
export const EXTERNAL_MODULES: string[] = [...LAZY_SDK_MODULES];

/** esbuild's alias of the credential provider chain, as NodejsFunction's esbuildArgs spell it. */
export const CREDENTIALS_ALIAS = `@aws-sdk/credential-provider-node=${LAMBDA_CREDENTIALS}`;

/** The Node version the bundles are compiled for (the functions' runtime). */
export const LAMBDA_TARGET = 'node24';

/** CommonJS dependencies inside an ESM bundle still call require(). */
export const LAMBDA_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/** The same choices as esbuild options, for bundling outside `cdk synth` (a test, the bench). */
export function lambdaEsbuildOptions(entry: string, outfile: string): BuildOptions {
  const [alias, target] = CREDENTIALS_ALIAS.split('=') as [string, string];
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
    alias: { [alias]: target },
    banner: { js: LAMBDA_BANNER },
    logLevel: 'error',
  };
}

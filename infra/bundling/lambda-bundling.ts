/**
 * The bundling choices of every Lambda (infra/constructs/service-function.ts passes them to
 * NodejsFunction; test/int/lambda-bundle.int.test.ts builds a bundle with them and runs it).
 */
import { join } from 'node:path';

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

/**
 * The only reader of environment variables for the service. Parsed once (first use, i.e. cold
 * start) and validated; a missing or malformed variable fails loudly with its name.
 * infra/ and local/ are the only writers of these names.
 */
import { z } from 'zod';

export const ENV = {
  tableName: 'BUILDSTATE_TABLE_NAME',
  dynamodbEndpoint: 'BUILDSTATE_DYNAMODB_ENDPOINT',
  artifactsBucket: 'BUILDSTATE_ARTIFACTS_BUCKET',
  s3Endpoint: 'BUILDSTATE_S3_ENDPOINT',
  presignExpirySeconds: 'BUILDSTATE_PRESIGN_EXPIRY_S',
  maxAttempts: 'BUILDSTATE_MAX_ATTEMPTS',
  idempotencyTtlSeconds: 'BUILDSTATE_IDEMPOTENCY_TTL_S',
  authCacheTtlSeconds: 'BUILDSTATE_AUTH_CACHE_TTL_S',
  catalogCacheTtlSeconds: 'BUILDSTATE_CATALOG_CACHE_TTL_S',
  region: 'AWS_REGION',
} as const;

const schema = z.object({
  [ENV.tableName]: z.string().min(3).max(255),
  [ENV.dynamodbEndpoint]: z.url().optional(),
  [ENV.artifactsBucket]: z.string().min(3).max(63).optional(),
  [ENV.s3Endpoint]: z.url().optional(),
  [ENV.presignExpirySeconds]: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(3600),
  [ENV.maxAttempts]: z.coerce.number().int().min(1).max(100).default(3),
  [ENV.idempotencyTtlSeconds]: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86400)
    .default(86400),
  [ENV.authCacheTtlSeconds]: z.coerce.number().int().min(0).max(300).default(5),
  [ENV.catalogCacheTtlSeconds]: z.coerce.number().int().min(0).max(3600).default(30),
  [ENV.region]: z.string().min(1).default('us-east-1'),
});

export interface Config {
  tableName: string;
  /** Set only for DynamoDB Local; in AWS the SDK's default endpoint is used. */
  dynamodbEndpoint?: string;
  /** Set only for functions that handle artifacts (and locally); others never touch S3. */
  artifactsBucket?: string;
  /** Set only for the local S3 server; in AWS the SDK's default endpoint is used. */
  s3Endpoint?: string;
  /** Lifetime of presigned upload and download URLs. */
  presignExpirySeconds: number;
  defaultMaxAttempts: number;
  idempotencyTtlSeconds: number;
  /** Seconds a verified API key is trusted before it is looked up again (0 disables). */
  authCacheTtlSeconds: number;
  /** Seconds a project's state catalog is reused before it is read again (0 disables). */
  catalogCacheTtlSeconds: number;
  region: string;
}

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
    throw new Error(`Invalid BuildState configuration: ${problems}`);
  }
  const v = parsed.data;
  return {
    tableName: v[ENV.tableName],
    dynamodbEndpoint: v[ENV.dynamodbEndpoint],
    artifactsBucket: v[ENV.artifactsBucket],
    s3Endpoint: v[ENV.s3Endpoint],
    presignExpirySeconds: v[ENV.presignExpirySeconds],
    defaultMaxAttempts: v[ENV.maxAttempts],
    idempotencyTtlSeconds: v[ENV.idempotencyTtlSeconds],
    authCacheTtlSeconds: v[ENV.authCacheTtlSeconds],
    catalogCacheTtlSeconds: v[ENV.catalogCacheTtlSeconds],
    region: v[ENV.region],
  };
}

let cached: Config | undefined;
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

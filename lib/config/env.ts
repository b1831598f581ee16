/**
 * The only reader of environment variables for the service. Parsed once (first use, i.e. cold
 * start) and validated; a missing or malformed variable fails loudly with its name.
 * infra/ and local/ are the only writers of these names.
 */
import { z } from 'zod';

export const ENV = {
  tableName: 'BUILDSTATE_TABLE_NAME',
  dynamodbEndpoint: 'BUILDSTATE_DYNAMODB_ENDPOINT',
  maxAttempts: 'BUILDSTATE_MAX_ATTEMPTS',
  idempotencyTtlSeconds: 'BUILDSTATE_IDEMPOTENCY_TTL_S',
  authCacheTtlSeconds: 'BUILDSTATE_AUTH_CACHE_TTL_S',
  region: 'AWS_REGION',
} as const;

const schema = z.object({
  [ENV.tableName]: z.string().min(3).max(255),
  [ENV.dynamodbEndpoint]: z.url().optional(),
  [ENV.maxAttempts]: z.coerce.number().int().min(1).max(100).default(3),
  [ENV.idempotencyTtlSeconds]: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86400)
    .default(86400),
  [ENV.authCacheTtlSeconds]: z.coerce.number().int().min(0).max(300).default(5),
  [ENV.region]: z.string().min(1).default('us-east-1'),
});

export interface Config {
  tableName: string;
  /** Set only for DynamoDB Local; in AWS the SDK's default endpoint is used. */
  dynamodbEndpoint?: string;
  defaultMaxAttempts: number;
  idempotencyTtlSeconds: number;
  /** Seconds a verified API key is trusted before it is looked up again (0 disables). */
  authCacheTtlSeconds: number;
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
    defaultMaxAttempts: v[ENV.maxAttempts],
    idempotencyTtlSeconds: v[ENV.idempotencyTtlSeconds],
    authCacheTtlSeconds: v[ENV.authCacheTtlSeconds],
    region: v[ENV.region],
  };
}

let cached: Config | undefined;
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

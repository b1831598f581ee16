/**
 * The only reader of environment variables for the service. Parsed once (first use, i.e. cold
 * start) and validated; a missing or malformed variable fails loudly with its name.
 * infra/ and local/ are the only writers of these names.
 */

import * as z from '../zod';
import { SHARED_ISSUERS } from './shared-issuers';

export const ENV = {
  tableName: 'BUILDSTATE_TABLE_NAME',
  dynamodbEndpoint: 'BUILDSTATE_DYNAMODB_ENDPOINT',
  artifactsBucket: 'BUILDSTATE_ARTIFACTS_BUCKET',
  s3Endpoint: 'BUILDSTATE_S3_ENDPOINT',
  presignExpirySeconds: 'BUILDSTATE_PRESIGN_EXPIRY_S',
  uploadCompletionLeaseSeconds: 'BUILDSTATE_UPLOAD_COMPLETION_LEASE_S',
  maxAttempts: 'BUILDSTATE_MAX_ATTEMPTS',
  idempotencyTtlSeconds: 'BUILDSTATE_IDEMPOTENCY_TTL_S',
  authCacheTtlSeconds: 'BUILDSTATE_AUTH_CACHE_TTL_S',
  catalogCacheTtlSeconds: 'BUILDSTATE_CATALOG_CACHE_TTL_S',
  jwtSecret: 'BUILDSTATE_JWT_SECRET',
  jwtSecretArn: 'BUILDSTATE_JWT_SECRET_ARN',
  jwtTtlSeconds: 'BUILDSTATE_JWT_TTL_S',
  refreshTtlSeconds: 'BUILDSTATE_REFRESH_TTL_S',
  oidcIssuer: 'BUILDSTATE_OIDC_ISSUER',
  oidcAudience: 'BUILDSTATE_OIDC_AUDIENCE',
  oidcJwksUrl: 'BUILDSTATE_OIDC_JWKS_URL',
  oidcScopesClaim: 'BUILDSTATE_OIDC_SCOPES_CLAIM',
  localAwsAccessKeyId: 'BUILDSTATE_LOCAL_AWS_ACCESS_KEY_ID',
  localAwsSecretAccessKey: 'BUILDSTATE_LOCAL_AWS_SECRET_ACCESS_KEY',
  heartbeatTimeoutSeconds: 'BUILDSTATE_HEARTBEAT_TIMEOUT_S',
  overdueFactor: 'BUILDSTATE_OVERDUE_FACTOR',
  overdueMinSamples: 'BUILDSTATE_OVERDUE_MIN_SAMPLES',
  retryLoopAfter: 'BUILDSTATE_RETRY_LOOP_AFTER',
  eventBusName: 'BUILDSTATE_EVENT_BUS_NAME',
  signingKeyArn: 'BUILDSTATE_SIGNING_KEY_ARN',
  signingKeyFile: 'BUILDSTATE_SIGNING_KEY_FILE',
  region: 'AWS_REGION',
} as const;

const schema = z.object({
  [ENV.tableName]: z.string().check(z.minLength(3)).check(z.maxLength(255)),
  [ENV.dynamodbEndpoint]: z.optional(z.url()),
  [ENV.artifactsBucket]: z.optional(z.string().check(z.minLength(3)).check(z.maxLength(63))),
  [ENV.s3Endpoint]: z.optional(z.url()),
  [ENV.presignExpirySeconds]: z._default(
    z.coerce
      .number()
      .check(z.int())
      // As low as 1 s so a test can watch part URLs expire mid-upload and be renewed.
      .check(z.gte(1))
      .check(z.lte(7 * 86400)),
    3600,
  ),
  // The completion job renews its lease every third of it while it works; as low as 1 s so a
  // test can restart a lost one.
  [ENV.uploadCompletionLeaseSeconds]: z._default(
    z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(86400)),
    60,
  ),
  [ENV.maxAttempts]: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(100)), 3),
  [ENV.idempotencyTtlSeconds]: z._default(
    z.coerce
      .number()
      .check(z.int())
      .check(z.gte(60))
      .check(z.lte(30 * 86400)),
    86400,
  ),
  [ENV.authCacheTtlSeconds]: z._default(
    z.coerce.number().check(z.int()).check(z.gte(0)).check(z.lte(300)),
    60,
  ),
  [ENV.jwtSecret]: z.optional(z.string().check(z.minLength(32, 'must be at least 32 characters'))),
  [ENV.jwtSecretArn]: z.optional(z.string().check(z.startsWith('arn:'))),
  [ENV.jwtTtlSeconds]: z._default(z.coerce.number().check(z.int()).check(z.gte(60)).check(z.lte(3600)), 900),
  // A login's refresh token: 1 hour to 90 days, default 30 days.
  [ENV.refreshTtlSeconds]: z._default(
    z.coerce.number().check(z.int()).check(z.gte(3600)).check(z.lte(7_776_000)),
    30 * 86400,
  ),
  [ENV.oidcIssuer]: z.optional(z.string().check(z.minLength(1))),
  [ENV.oidcAudience]: z.optional(z.string().check(z.minLength(1))),
  [ENV.oidcJwksUrl]: z.optional(z.url()),
  [ENV.oidcScopesClaim]: z._default(z.string().check(z.minLength(1)), 'scope'),
  [ENV.catalogCacheTtlSeconds]: z._default(
    z.coerce.number().check(z.int()).check(z.gte(0)).check(z.lte(3600)),
    30,
  ),
  [ENV.heartbeatTimeoutSeconds]: z._default(
    z.coerce.number().check(z.int()).check(z.gte(10)).check(z.lte(86400)),
    300,
  ),
  [ENV.overdueFactor]: z._default(z.coerce.number().check(z.gte(1)).check(z.lte(100)), 2),
  [ENV.overdueMinSamples]: z._default(
    z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(10000)),
    5,
  ),
  [ENV.retryLoopAfter]: z._default(z.coerce.number().check(z.int()).check(z.gte(2)).check(z.lte(100)), 2),
  [ENV.eventBusName]: z.optional(z.string().check(z.minLength(1)).check(z.maxLength(256))),
  [ENV.signingKeyArn]: z.optional(z.string().check(z.startsWith('arn:'))),
  [ENV.signingKeyFile]: z.optional(z.string().check(z.minLength(1))),
  [ENV.region]: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
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
  /** How long a multipart completion job holds its upload before a completion asked again restarts it. */
  uploadCompletionLeaseSeconds: number;
  defaultMaxAttempts: number;
  idempotencyTtlSeconds: number;
  /**
   * Seconds a verified API key is trusted before it is looked up again (default 60; 0 disables), as
   * API Gateway caches a Lambda authorizer's result. A revocation in the same runtime applies at once.
   */
  authCacheTtlSeconds: number;
  /** HMAC secret of the JWTs BuildState issues: the value (local) or a Secrets Manager ARN (AWS). */
  jwtSecret?: string;
  jwtSecretArn?: string;
  jwtTtlSeconds: number;
  /** Seconds a refresh token lives after it is issued (each rotation issues a new one). */
  refreshTtlSeconds: number;
  /** An external identity provider whose JWTs are accepted too (all three set, or none). */
  oidc?: { issuer: string; audience: string; jwksUrl: string; scopesClaim: string };
  /** Seconds a project's state catalog is reused before it is read again (0 disables). */
  catalogCacheTtlSeconds: number;
  /** An in-progress attempt with no heartbeat or report for this long is `silent`. */
  heartbeatTimeoutSeconds: number;
  /** An attempt running longer than factor × (p95 of its history, or the catalog's expected_duration_s) is `overdue`. */
  overdueFactor: number;
  /** Completed attempts of a state on a platform needed before their p95 replaces expected_duration_s. */
  overdueMinSamples: number;
  /** Consecutive failures of one state with the same error that make a `Build Retry Loop` event. */
  retryLoopAfter: number;
  /** The EventBridge bus events are published to (the stream publisher in AWS). */
  eventBusName?: string;
  /**
   * The provenance signing key (docs/PROVENANCE.md): a KMS key ARN (AWS), else a local PEM file
   * made on first use (mode 0600).
   */
  signingKeyArn?: string;
  signingKeyFile?: string;
  region: string;
}

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ');
    throw new Error(`Invalid BuildState configuration: ${problems}`);
  }
  const v = parsed.data;
  const oidcParts = [v[ENV.oidcIssuer], v[ENV.oidcAudience], v[ENV.oidcJwksUrl]];
  if (oidcParts.some(Boolean) && !oidcParts.every(Boolean)) {
    throw new Error(
      `Invalid BuildState configuration: set all of ${ENV.oidcIssuer}, ${ENV.oidcAudience} and ${ENV.oidcJwksUrl}, or none`,
    );
  }
  // The single environment issuer binds no claims: fine for an organisation's own identity provider,
  // an open door on a CI platform's issuer, whose tokens every customer gets.
  const envIssuer = v[ENV.oidcIssuer];
  const sharedIssuer = envIssuer ? SHARED_ISSUERS.find((s) => s.matches(envIssuer)) : undefined;
  if (sharedIssuer) {
    throw new Error(
      `Invalid BuildState configuration: ${ENV.oidcIssuer} is ${sharedIssuer.name}'s issuer, shared by all its customers; unset ${ENV.oidcIssuer}, ${ENV.oidcAudience} and ${ENV.oidcJwksUrl} and create a trust policy that binds your tenant instead (POST /trust-policies, docs/AUTH-CI.md)`,
    );
  }
  return {
    tableName: v[ENV.tableName],
    dynamodbEndpoint: v[ENV.dynamodbEndpoint],
    artifactsBucket: v[ENV.artifactsBucket],
    s3Endpoint: v[ENV.s3Endpoint],
    presignExpirySeconds: v[ENV.presignExpirySeconds],
    uploadCompletionLeaseSeconds: v[ENV.uploadCompletionLeaseSeconds],
    defaultMaxAttempts: v[ENV.maxAttempts],
    idempotencyTtlSeconds: v[ENV.idempotencyTtlSeconds],
    authCacheTtlSeconds: v[ENV.authCacheTtlSeconds],
    catalogCacheTtlSeconds: v[ENV.catalogCacheTtlSeconds],
    jwtSecret: v[ENV.jwtSecret],
    jwtSecretArn: v[ENV.jwtSecretArn],
    jwtTtlSeconds: v[ENV.jwtTtlSeconds],
    refreshTtlSeconds: v[ENV.refreshTtlSeconds],
    oidc: v[ENV.oidcIssuer]
      ? {
          issuer: v[ENV.oidcIssuer]!,
          audience: v[ENV.oidcAudience]!,
          jwksUrl: v[ENV.oidcJwksUrl]!,
          scopesClaim: v[ENV.oidcScopesClaim],
        }
      : undefined,
    heartbeatTimeoutSeconds: v[ENV.heartbeatTimeoutSeconds],
    overdueFactor: v[ENV.overdueFactor],
    overdueMinSamples: v[ENV.overdueMinSamples],
    retryLoopAfter: v[ENV.retryLoopAfter],
    eventBusName: v[ENV.eventBusName],
    signingKeyArn: v[ENV.signingKeyArn],
    signingKeyFile: v[ENV.signingKeyFile],
    region: v[ENV.region],
  };
}

let cached: Config | undefined;
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

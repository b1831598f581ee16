/** Per-stage settings, chosen with `-c stage=dev|prod` and validated before anything is built. */
import { Aws } from 'aws-cdk-lib';
import * as z from 'zod';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageConfig {
  stage: Stage;
  /** Keep the table and buckets (RETAIN + deletion protection) when the stack goes away. */
  retainData: boolean;
  logRetentionDays: 7 | 30 | 90 | 365;
  /** Optional email subscription of the alert topic. */
  alertEmail?: string;
  /** Origins the web dashboard may call the API from. */
  corsOrigins: string[];
  throttle: { rateLimit: number; burstLimit: number };
  maxAttempts: number;
  presignExpirySeconds: number;
  /** The stuck detector: silence before an attempt is `silent`, and the `overdue` factor. */
  heartbeatTimeoutSeconds: number;
  overdueFactor: number;
  /**
   * Seconds the authorizer trusts a verified API key without reading it again (BUILDSTATE_AUTH_CACHE_TTL_S,
   * 0-300): a revocation reaches a warm authorizer only after this long (docs/API.md).
   */
  authCacheTtlSeconds: number;
}

const CONFIGS: Record<Stage, Omit<StageConfig, 'stage' | 'alertEmail'>> = {
  dev: {
    retainData: false,
    logRetentionDays: 7,
    corsOrigins: ['http://127.0.0.1:8080', 'http://localhost:8080'],
    throttle: { rateLimit: 50, burstLimit: 100 },
    maxAttempts: 3,
    presignExpirySeconds: 3600,
    heartbeatTimeoutSeconds: 300,
    overdueFactor: 2,
    authCacheTtlSeconds: 60,
  },
  prod: {
    retainData: true,
    logRetentionDays: 90,
    corsOrigins: [],
    throttle: { rateLimit: 500, burstLimit: 1000 },
    maxAttempts: 3,
    presignExpirySeconds: 3600,
    heartbeatTimeoutSeconds: 300,
    overdueFactor: 2,
    authCacheTtlSeconds: 60,
  },
};

const contextSchema = z.object({
  stage: z.enum(STAGES, { error: `stage must be one of ${STAGES.join(', ')} (-c stage=dev)` }).default('dev'),
  alertEmail: z.email().optional(),
});

/** Reads `stage` and `alertEmail` from CDK context; throws a readable error for anything else. */
export function stageConfig(context: { stage?: unknown; alertEmail?: unknown }): StageConfig {
  const parsed = contextSchema.safeParse(context);
  if (!parsed.success)
    throw new Error(`Invalid CDK context: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return { stage: parsed.data.stage, alertEmail: parsed.data.alertEmail, ...CONFIGS[parsed.data.stage] };
}

/**
 * Physical names of the stateful resources. Fixed names let the stateless stack refer to them by
 * name (no CloudFormation exports to lock) and make every IAM resource string predictable.
 */
export function resourceNames(stage: Stage) {
  return {
    table: `buildstate-${stage}`,
    artifactsBucket: `buildstate-${stage}-artifacts-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
    accessLogsBucket: `buildstate-${stage}-access-logs-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
    /** SSM parameter holding the table's stream ARN (a stream ARN has a timestamp: it cannot be derived). */
    tableStreamParameter: `/buildstate/${stage}/table-stream-arn`,
    /** SSM parameter holding the provenance signing key's ARN (docs/PROVENANCE.md). */
    signingKeyParameter: `/buildstate/${stage}/provenance-signing-key-arn`,
  };
}

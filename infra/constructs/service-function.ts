/**
 * Every Lambda of the service, with one set of defaults (runtime, arm64, ESM bundle with source
 * maps, its own log group and role). bindTable/bindBucket set the environment variable and the
 * IAM grant in one call, so the two cannot drift; grants name exact actions, never `*`.
 * Bundled by esbuild's JS API (scripts/bundle-lambda.mjs with infra/bundling/lambda-bundling.ts),
 * not NodejsFunction: NodejsFunction runs the esbuild CLI, which takes no plugins, and the bundles
 * need one (infra/bundling/sdk-literal-keys.ts).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AssetHashType, DockerImage, Duration, type ILocalBundling, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Code, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../lib/config/env';
import { ALL_INDEXES } from '../../lib/db/table-definition';
import type { StageConfig } from '../config';

/** The project root: `cdk` and the tests both run from it. */
export const PROJECT_ROOT = process.cwd();

export const RUNTIME = Runtime.NODEJS_24_X;

const RETENTION: Record<StageConfig['logRetentionDays'], RetentionDays> = {
  7: RetentionDays.ONE_WEEK,
  30: RetentionDays.ONE_MONTH,
  90: RetentionDays.THREE_MONTHS,
  365: RetentionDays.ONE_YEAR,
};

export type TableAction =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'Query'
  | 'BatchGetItem'
  | 'ConditionCheckItem';
export type ObjectAction =
  | 's3:GetObject'
  | 's3:GetObjectVersion'
  | 's3:PutObject'
  | 's3:DeleteObject'
  | 's3:AbortMultipartUpload';

export interface ServiceFunctionProps {
  /** Path of the handler module, relative to the project root. */
  entry: string;
  description: string;
  config: StageConfig;
  environment?: Record<string, string>;
  /** Files copied beside the bundle, by path in the asset → absolute source path (read at run time). */
  extraFiles?: Readonly<Record<string, string>>;
  /** Default 10 s (API functions answer within API Gateway's 29 s); longer for background work. */
  timeout?: Duration;
  /** Default 512 MB. */
  memorySize?: number;
}

export class ServiceFunction extends Construct {
  readonly fn: LambdaFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', { retention: RETENTION[props.config.logRetentionDays] });
    // An own role with exactly its log group, instead of the AWSLambdaBasicExecutionRole managed policy.
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.fn = new LambdaFunction(this, 'Function', {
      code: lambdaCode(props.entry, props.extraFiles ?? {}),
      handler: 'index.handler',
      description: props.description,
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup,
      // X-Ray: Lambda traces each invocation, and Powertools' tracer (lib/observability/tracer.ts)
      // adds the handler's and every AWS call's subsegments. CDK grants the role
      // xray:PutTraceSegments and xray:PutTelemetryRecords (acknowledged below).
      tracing: Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'buildstate',
        [ENV.maxAttempts]: String(props.config.maxAttempts),
        ...props.environment,
      },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so their resource is *.',
    });
  }

  /** Grants exact actions on the table and each of its indexes by ARN: no wildcard at all. */
  bindTable(table: ITableV2, actions: readonly TableAction[]): this {
    this.fn.addEnvironment(ENV.tableName, table.tableName);
    this.role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [table.tableArn, ...ALL_INDEXES.map((index) => `${table.tableArn}/index/${index.name}`)],
      }),
    );
    return this;
  }

  /** PutEvents on exactly this bus, whose name the publisher reads from the environment. */
  bindEventBus(bus: IEventBus): this {
    this.fn.addEnvironment(ENV.eventBusName, bus.eventBusName);
    bus.grantPutEventsTo(this.role);
    return this;
  }

  withEnvironment(values: Record<string, string>): this {
    for (const [name, value] of Object.entries(values)) this.fn.addEnvironment(name, value);
    return this;
  }

  /** The JWT signing secret: its ARN in the environment and read access to it, nothing else. */
  bindJwtSecret(secret: ISecret): this {
    this.fn.addEnvironment(ENV.jwtSecretArn, secret.secretArn);
    secret.grantRead(this.role);
    return this;
  }

  /**
   * Provenance (docs/PROVENANCE.md): the signing key's ARN in the environment and exactly these KMS
   * actions on it (kms:Sign for the signer only), and the public keys every signer keeps under
   * signing-keys/ in the bucket.
   */
  bindSigningKey(
    key: IKey,
    kmsActions: readonly ('kms:Sign' | 'kms:GetPublicKey')[],
    bucket: IBucket,
    keyObjectActions: readonly ObjectAction[],
  ): this {
    this.fn.addEnvironment(ENV.signingKeyArn, key.keyArn);
    this.role.addToPolicy(new PolicyStatement({ actions: [...kmsActions], resources: [key.keyArn] }));
    const objects = bucket.arnForObjects('signing-keys/*');
    this.role.addToPolicy(new PolicyStatement({ actions: [...keyObjectActions], resources: [objects] }));
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResourceName(Stack.of(this).resolve(objects))}]`,
      reason:
        'Public keys are keyed signing-keys/{keyid}.pem: access is limited to that prefix, with exact actions.',
    });
    return this;
  }

  /** HeadBucket only (GET /status): the bucket's name and s3:ListBucket on the bucket, no object access. */
  bindBucketCheck(bucket: IBucket): this {
    this.fn.addEnvironment(ENV.artifactsBucket, bucket.bucketName);
    this.role.addToPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    return this;
  }

  /** Objects are granted under builds/* only; ListBucket lets HEAD tell a missing object (404) from a denial (403). */
  bindBucket(bucket: IBucket, actions: readonly ObjectAction[], presignExpirySeconds: number): this {
    this.fn.addEnvironment(ENV.artifactsBucket, bucket.bucketName);
    this.fn.addEnvironment(ENV.presignExpirySeconds, String(presignExpirySeconds));
    const objects = bucket.arnForObjects('builds/*');
    this.role.addToPolicy(new PolicyStatement({ actions: [...actions], resources: [objects] }));
    this.role.addToPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    // Acknowledge exactly this one wildcard finding, by the id cdk-nag gives it.
    const finding = nagResourceName(Stack.of(this).resolve(objects));
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${finding}]`,
      reason:
        'Artifact objects are keyed builds/{build_id}/states/{code}/{name}: access is limited to that prefix, with exact actions.',
    });
    return this;
  }
}

/**
 * The function's code: its bundle, built on this machine when the stack is synthesized (never in
 * Docker: the image is required by the type and never used). The asset's hash is that of the
 * output, so the project folder is neither fingerprinted nor copied; when a test skips bundling
 * (context `aws:cdk:bundling-stacks: []`) nothing runs at all.
 */
function lambdaCode(entry: string, extraFiles: Readonly<Record<string, string>>): Code {
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      command: ['node', 'scripts/bundle-lambda.mjs', entry, '/asset-output'],
      local: new LocalBundle(entry, extraFiles),
    },
  });
}

/**
 * Local bundling of one function. Its fields are part of CDK's asset cache key (the key is the
 * JSON of the bundling options), so two functions never share a bundle by mistake.
 */
class LocalBundle implements ILocalBundling {
  constructor(
    readonly entry: string,
    /** By path in the asset → absolute source path: copied beside the bundle (read at run time). */
    readonly extraFiles: Readonly<Record<string, string>>,
  ) {}

  tryBundle(outputDir: string): boolean {
    const run = spawnSync(
      process.execPath,
      [join(PROJECT_ROOT, 'scripts', 'bundle-lambda.mjs'), this.entry, outputDir],
      { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] },
    );
    if (run.status !== 0)
      throw new Error(`Bundling ${this.entry} failed (${run.error ?? `exit ${run.status}`}): ${run.stderr}`);
    for (const [target, source] of Object.entries(this.extraFiles)) {
      const dest = join(outputDir, target);
      mkdirSync(dirname(dest), { recursive: true });
      cpSync(source, dest, { recursive: true });
    }
    return true;
  }
}

/**
 * A resolved CloudFormation value as cdk-nag spells it in finding ids: strings as they are,
 * Fn::Join joined, Ref as <Name>. (Only what our ARNs contain; anything else fails loudly.)
 */
export function nagResourceName(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (v['Fn::Join']) return v['Fn::Join'][1].map(nagResourceName).join(v['Fn::Join'][0]);
  if (v.Ref) return `<${v.Ref}>`;
  throw new Error(`Cannot name ${JSON.stringify(value)} for a cdk-nag acknowledgement`);
}

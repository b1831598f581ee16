/** Functions, the two HTTP APIs, events and observability, over the stateful stack's table and bucket. */
import { dirname, join } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { ENV } from '../lib/config/env';
import { PUBLISHED_ITEM_TYPES } from '../lib/events/events';
import { DASHBOARD_ASSETS } from '../lib/http/dashboard.routes';
import type { FunctionGroup } from '../lib/http/routes';
import { SWAGGER_UI_FILES } from '../web/api-docs';
import { resourceNames, type StageConfig } from './config';
import { Alerts } from './constructs/alerts';
import { EventSchemas } from './constructs/event-schemas';
import { HttpApis } from './constructs/http-apis';
import { Observability } from './constructs/observability';
import { PROJECT_ROOT, ServiceFunction } from './constructs/service-function';

/**
 * The files the dashboard function reads beside its bundle: Swagger UI's, from the installed
 * swagger-ui-dist package, and the OpenAPI document `npm run openapi` generated (not bundled: ~150 KB), and the web dashboard scripts/build-web.mjs built.
 */
function dashboardFiles(): Record<string, string> {
  const dir = dirname(require.resolve('swagger-ui-dist/package.json'));
  return {
    ...Object.fromEntries(SWAGGER_UI_FILES.map((name) => [`swagger-ui/${name}`, join(dir, name)])),
    'openapi.json': join(PROJECT_ROOT, '.build', 'openapi.json'),
    ...Object.fromEntries(
      ['index.html', ...DASHBOARD_ASSETS].map((name) => [
        `web/${name}`,
        join(PROJECT_ROOT, '.build', 'web', name),
      ]),
    ),
  };
}

export interface StatelessStackProps extends StackProps {
  config: StageConfig;
}

export class StatelessStack extends Stack {
  readonly functions: Record<
    | FunctionGroup
    | 'authorizer'
    | 'publisher'
    | 'aggregator'
    | 'stuckDetector'
    | 'provenanceSigner'
    | 'uploadCompleter',
    ServiceFunction
  >;
  readonly apis: HttpApis;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config } = props;
    // By name, not by cross-stack export: the stateful stack can change without export lock-in.
    const names = resourceNames(config.stage);
    const table = TableV2.fromTableName(this, 'Table', names.table);
    const bucket = Bucket.fromBucketName(this, 'ArtifactsBucket', names.artifactsBucket);
    const fn = (
      group: string,
      description: string,
      entry = `functions/${group}/index.ts`,
      extraFiles?: Record<string, string>,
    ) =>
      new ServiceFunction(this, `${group[0]!.toUpperCase()}${group.slice(1)}`, {
        entry,
        description,
        config,
        extraFiles,
      });
    // The stream consumer needs the stream ARN, which the stateful stack publishes in SSM.
    const streamTable = TableV2.fromTableAttributes(this, 'TableWithStream', {
      tableName: names.table,
      tableStreamArn: StringParameter.valueForStringParameter(this, names.tableStreamParameter),
    });
    const alerts = new Alerts(this, 'Alerts', { config });
    const signingKey = Key.fromKeyArn(
      this,
      'SigningKey',
      StringParameter.valueForStringParameter(this, names.signingKeyParameter),
    );

    // Signs and verifies BuildState's own JWTs. Rotating it (put a new value) ends every token
    // within 5 minutes, when the functions re-read it; tokens live at most 1 hour anyway.
    const jwtSecret = new Secret(this, 'JwtSecret', {
      description: 'HMAC key of the JWTs BuildState issues (POST /auth/token)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(jwtSecret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'An HMAC signing key, not a credential of another system: rotate it by putting a new value (no rotation Lambda needed); tokens signed with the old key stop within 5 minutes.',
    });

    // Each function gets exactly the actions its code performs (docs/DEPLOY.md lists them).
    this.functions = {
      system: fn('system', 'health and readiness').bindTable(table, ['GetItem']),
      // ConditionCheckItem: a new build's check that no ancestor is revoked (lib/lineage/ancestry.ts).
      builds: fn('builds', 'create, list, get, history, cancel, unblock builds').bindTable(table, [
        'GetItem',
        'PutItem',
        'UpdateItem',
        'Query',
        'BatchGetItem',
        'ConditionCheckItem',
      ]),
      states: fn('states', 'state reports (with the artifacts they name), leases and heartbeats')
        .bindTable(table, ['GetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem'])
        // PutObject: the pointer objects of artifacts a report names (`artifacts` in the body);
        // GetObjectVersion: their views' download URLs pinned to the verified version (docs/ARTIFACTS.md).
        .bindBucket(
          bucket,
          ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
          config.presignExpirySeconds,
        ),
      artifacts: fn('artifacts', 'artifact registration, verification, download URLs and resume')
        .bindTable(table, ['GetItem', 'PutItem', 'UpdateItem', 'Query'])
        // PutObject covers creating, presigning parts of and completing a multipart upload;
        // AbortMultipartUpload frees the parts of one replaced by a changed file (or aborted).
        .bindBucket(
          bucket,
          ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload'],
          config.presignExpirySeconds,
        ),
      identity: fn('identity', 'API keys, users, JWTs, refresh tokens')
        .bindTable(table, ['GetItem', 'PutItem', 'UpdateItem', 'Query'])
        .bindJwtSecret(jwtSecret),
      // Trust policies and the OIDC exchange: outside any VPC (egress to the CI issuers' discovery
      // and JWKS endpoints), keys cached in memory per runtime; it reads and writes only its items.
      oidc: fn('oidc', 'trust policies and the OIDC token exchange')
        .bindTable(table, ['GetItem', 'PutItem', 'UpdateItem', 'Query'])
        .bindJwtSecret(jwtSecret),
      reference: fn('reference', 'projects, platforms, OS versions, image types, state catalogs').bindTable(
        table,
        ['GetItem', 'PutItem', 'Query', 'ConditionCheckItem'],
      ),
      authorizer: fn('authorizer', 'API key and JWT authorizer')
        .bindTable(table, ['GetItem', 'PutItem', 'UpdateItem'])
        .bindJwtSecret(jwtSecret)
        .withEnvironment({ [ENV.authCacheTtlSeconds]: String(config.authCacheTtlSeconds) }),
      // GET /docs serves Swagger UI's files from swagger-ui/ beside the bundle (web/api-docs.ts),
      // GET /openapi.json the document beside it (lib/http/openapi-file.ts), GET / and /web/{asset}
      // the dashboard from web/ (web/dashboard-files.ts).
      dashboard: fn(
        'dashboard',
        'dashboard API, status overview, web page, OpenAPI document and API reference',
        undefined,
        dashboardFiles(),
      )
        .bindTable(table, ['GetItem', 'Query', 'BatchGetItem'])
        .bindBucketCheck(bucket),
      // Images, lineage, channels, revocation: items written by PutItem inside transactions only.
      lineage: fn('lineage', 'images, lineage, channels, revocation and restore').bindTable(table, [
        'GetItem',
        'PutItem',
        'Query',
        'BatchGetItem',
        'ConditionCheckItem',
      ]),
      // GET /builds/{id}/provenance and the public keys: reads only (the envelope, the keys).
      provenance: fn('provenance', 'signed provenance and its public keys')
        .bindTable(table, ['GetItem'])
        .bindBucket(bucket, ['s3:GetObject'], config.presignExpirySeconds)
        .bindSigningKey(signingKey, ['kms:GetPublicKey'], bucket, ['s3:GetObject']),
      // The only function that may sign (kms:Sign): a completed build's provenance, from the
      // stream; it reads the build's records and writes the envelope, its key and the event item.
      provenanceSigner: fn(
        'provenanceSigner',
        'table stream → signed provenance of completed builds',
        'functions/events/sign-provenance.ts',
      )
        .bindTable(table, ['GetItem', 'Query', 'PutItem'])
        .bindBucket(bucket, ['s3:GetObject', 's3:PutObject'], config.presignExpirySeconds)
        .bindSigningKey(signingKey, ['kms:Sign', 'kms:GetPublicKey'], bucket, [
          's3:GetObject',
          's3:PutObject',
        ]),
      publisher: fn(
        'publisher',
        'table stream → EventBridge events',
        'functions/events/publish.ts',
      ).bindEventBus(alerts.bus),
      // Markers (PutItem) and counters (UpdateItem), committed together by TransactWriteItems;
      // a fork parent's family status (GetItem of parent, roll-up and live item; lib/builds/family.ts).
      aggregator: fn(
        'aggregator',
        'table stream → dashboard aggregates, exactly once',
        'functions/events/aggregate.ts',
      ).bindTable(table, ['GetItem', 'PutItem', 'UpdateItem']),
      // The multipart completion worker (docs/ARTIFACTS.md "Completion"), fed by the stream: S3's
      // CompleteMultipartUpload (authorised by s3:PutObject), the HEAD/GET of verification, the
      // upload record, its parts and the artifact's verification (the artifacts function's items).
      // 15 minutes: assembling thousands of parts can outlast any API request.
      uploadCompleter: new ServiceFunction(this, 'UploadCompleter', {
        entry: 'functions/events/complete-uploads.ts',
        description: 'table stream → multipart upload completion and verification',
        config,
        timeout: Duration.minutes(15),
        memorySize: 1024,
      })
        .bindTable(table, ['GetItem', 'PutItem', 'UpdateItem', 'Query'])
        .bindBucket(
          bucket,
          ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
          config.presignExpirySeconds,
        ),
      stuckDetector: fn(
        'stuckDetector',
        'finds silent and overdue attempts',
        'functions/events/detect-stuck.ts',
      )
        .bindTable(table, ['GetItem', 'Query', 'PutItem', 'ConditionCheckItem'])
        .withEnvironment({
          [ENV.heartbeatTimeoutSeconds]: String(config.heartbeatTimeoutSeconds),
          [ENV.overdueFactor]: String(config.overdueFactor),
        }),
    };

    // At least once, in order per build: a batch that fails is split and retried from the failed
    // record; records that still fail after a day of retries go to the queue below with their position.
    const unpublished = new Queue(this, 'UnpublishedEvents', {
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
    });
    Validations.of(unpublished).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        "This queue is the stream consumer's on-failure destination (a dead-letter queue itself); messages are stream positions to replay by hand.",
    });
    this.functions.publisher.fn.addEventSource(
      new DynamoEventSource(streamTable, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 10_000,
        maxRecordAge: Duration.days(1),
        onFailure: new SqsDlq(unpublished),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { type: { S: FilterRule.or(...PUBLISHED_ITEM_TYPES) } } },
          }),
        ],
      }),
    );
    // The dashboard's counters: inserts of history items and writes of live items (a live item's
    // first full image counts its build, a status change moves it). Every record is applied exactly
    // once (markers), so retrying a whole batch is safe; a 1 s batching window bounds freshness.
    // From the stream's start even on an upgrade: records of items the version before wrote (which
    // counted inside its transactions) carry no `counted_by` and count nothing (docs/DEPLOY.md).
    // Updates of build items too: a state report leaves its live item's position copy to this
    // consumer (lib/leases/live.projection.ts), which writes it before counting.
    this.functions.aggregator.fn.addEventSource(
      new DynamoEventSource(streamTable, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: 10_000,
        maxRecordAge: Duration.days(1),
        onFailure: new SqsDlq(unpublished),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { type: { S: FilterRule.isEqual('history') } } },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { NewImage: { type: { S: FilterRule.isEqual('live') } } },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: { NewImage: { type: { S: FilterRule.isEqual('build') } } },
          }),
        ],
      }),
    );
    // Completions only: history inserts whose build_status is completed (the signer skips a
    // record whose build was completed already, and a replay finds the envelope stored).
    this.functions.provenanceSigner.fn.addEventSource(
      new DynamoEventSource(streamTable, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        bisectBatchOnError: true,
        retryAttempts: 10_000,
        maxRecordAge: Duration.days(1),
        onFailure: new SqsDlq(unpublished),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: {
              NewImage: {
                type: { S: FilterRule.isEqual('history') },
                build_status: { S: FilterRule.isEqual('completed') },
              },
            },
          }),
        ],
      }),
    );
    // Upload records entering `completing` under a new job (the worker skips every other record).
    // One record per invocation, ten per shard at once: one large completion does not hold up
    // the others. A failure is retried three times; a completion still unfinished is restarted by
    // the client's next poll once its lease ends (lib/artifacts/upload.service.ts), so the queue
    // keeps only the position.
    this.functions.uploadCompleter.fn.addEventSource(
      new DynamoEventSource(streamTable, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 1,
        parallelizationFactor: 10,
        retryAttempts: 3,
        maxRecordAge: Duration.hours(6),
        onFailure: new SqsDlq(unpublished),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: {
              NewImage: {
                type: { S: FilterRule.isEqual('upload') },
                status: { S: FilterRule.isEqual('completing') },
              },
            },
          }),
        ],
      }),
    );
    alerts.stuckSchedule.addTarget(new LambdaFunction(this.functions.stuckDetector.fn));

    this.apis = new HttpApis(this, 'Http', {
      config,
      groups: {
        system: this.functions.system.fn,
        builds: this.functions.builds.fn,
        states: this.functions.states.fn,
        artifacts: this.functions.artifacts.fn,
        identity: this.functions.identity.fn,
        oidc: this.functions.oidc.fn,
        reference: this.functions.reference.fn,
        dashboard: this.functions.dashboard.fn,
        lineage: this.functions.lineage.fn,
        provenance: this.functions.provenance.fn,
      },
      authorizer: this.functions.authorizer.fn,
    });

    new Observability(this, 'Observability', {
      config,
      apis: [this.apis.keyApi, this.apis.iamApi],
      functions: Object.fromEntries(Object.entries(this.functions).map(([name, f]) => [name, f.fn])),
      table,
      alertTopic: alerts.topic,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.apis.keyApi.apiEndpoint,
      description: 'API for X-API-Key callers',
    });
    new CfnOutput(this, 'IamApiUrl', {
      value: this.apis.iamApi.apiEndpoint,
      description: 'API for SigV4 (IAM) callers',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'ArtifactsBucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'EventBusName', { value: alerts.bus.eventBusName });
    const schemas = new EventSchemas(this, 'EventSchemas', { config });
    new CfnOutput(this, 'EventSchemaRegistry', {
      value: schemas.registry.attrRegistryName,
      description: 'EventBridge schema registry of the events (docs/EVENTS.md)',
    });
    new CfnOutput(this, 'AlertTopicArn', { value: alerts.topic.topicArn });
  }
}

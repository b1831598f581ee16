/** The CDK app, proven offline: resources and their key properties, least privilege, routes, cdk-nag. */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../infra/app';
import { stageConfig } from '../../infra/config';
import { ALL_INDEXES } from '../../lib/db/table-definition';
import { EVENT_CONTRACTS, eventJsonSchema } from '../../lib/events/event.schema';
import { ROUTES, routeKey } from '../../lib/http/routes';

/** Assertion tests skip bundling (TOOLCHAIN.md): the bundles get their own test below. */
const synth = (stage: 'dev' | 'prod') => {
  const { stateful, stateless } = buildApp(new App({ context: { stage, 'aws:cdk:bundling-stacks': [] } }));
  return { stateful: Template.fromStack(stateful), stateless: Template.fromStack(stateless) };
};

const dev = synth('dev');
const prod = synth('prod');

type Statement = { Action: string | string[]; Resource: unknown };
const policiesOf = (template: Template) =>
  Object.entries(template.findResources('AWS::IAM::Policy')).map(([id, r]) => ({
    id,
    statements: (r as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
      .PolicyDocument.Statement,
  }));
const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('stateful stack', () => {
  it('builds the single table from the shared definition', () => {
    dev.stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'buildstate-dev',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
      GlobalSecondaryIndexes: ALL_INDEXES.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection:
          index.include === 'ALL'
            ? { ProjectionType: 'ALL' }
            : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.include] },
      })),
    });
  });

  it('retains and protects data in prod, not in dev', () => {
    prod.stateful.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })] }),
    });
    dev.stateful.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] }),
    });
    prod.stateful.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  it('keeps artifacts in an encrypted, private, versioned, logged bucket with lifecycle rules', () => {
    dev.stateful.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'artifacts/' }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
        ]),
      },
    });
    // enforceSSL: every bucket denies requests without TLS.
    const policies = dev.stateful.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('stateless stack', () => {
  const expected: Record<string, string[]> = {
    System: ['dynamodb:GetItem'],
    UploadCompleter: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      's3:GetObject',
      's3:GetObjectVersion',
      's3:PutObject',
      's3:ListBucket',
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'sqs:SendMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ],
    Builds: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
    ],
    Lineage: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
    ],
    States: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
      's3:GetObject',
      's3:GetObjectVersion',
      's3:PutObject',
      's3:ListBucket',
    ],
    Artifacts: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      's3:GetObject',
      's3:GetObjectVersion',
      's3:PutObject',
      's3:AbortMultipartUpload',
      's3:ListBucket',
    ],
    Reference: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
    Identity: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'secretsmanager:GetSecretValue',
      'secretsmanager:DescribeSecret',
    ],
    // Trust policies (its own items) and the OIDC exchange, which signs BuildState tokens.
    Oidc: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'secretsmanager:GetSecretValue',
      'secretsmanager:DescribeSecret',
    ],
    Authorizer: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'secretsmanager:GetSecretValue',
      'secretsmanager:DescribeSecret',
    ],
    Dashboard: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 's3:ListBucket'],
    // The stream consumer: reading the stream and putting events, nothing on the table itself.
    Publisher: [
      'events:PutEvents',
      'dynamodb:ListStreams',
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'sqs:SendMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ],
    // The second stream consumer: markers and counters on the table, and a fork parent's family
    // status (reads of the parent, its roll-up and live item; the change put in a transaction).
    Aggregator: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ListStreams',
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'sqs:SendMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ],
    StuckDetector: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
    // Serves provenance: reads the stored envelope and public keys, never signs.
    Provenance: ['dynamodb:GetItem', 's3:GetObject', 's3:ListBucket', 'kms:GetPublicKey', 's3:GetObject'],
    // The third stream consumer and the only function that may sign (docs/PROVENANCE.md).
    ProvenanceSigner: [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      's3:GetObject',
      's3:PutObject',
      's3:ListBucket',
      'kms:Sign',
      'kms:GetPublicKey',
      's3:GetObject',
      's3:PutObject',
      'dynamodb:ListStreams',
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'sqs:SendMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ],
  };

  it('deploys one arm64 function per handler group on a current Node runtime, traced by X-Ray', () => {
    const functions = dev.stateless.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(Object.keys(expected).length);
    for (const fn of Object.values(functions)) {
      expect(fn).toMatchObject({
        Properties: {
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
        },
      });
    }
  });

  it('grants each function exactly the actions it uses, and no wildcard action anywhere', () => {
    const policies = policiesOf(dev.stateless);
    const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    for (const [name, actions] of Object.entries(expected)) {
      const policy = policies.find((p) => p.id.startsWith(`${name}Role`));
      expect(policy).toBeDefined();
      const all = actionsOf(policy!.statements);
      const granted = all.filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'));
      expect(granted.sort()).toEqual([...actions].sort());
      // Active tracing: each function may send its own segments, nothing more of X-Ray.
      expect(all.filter((a) => a.startsWith('xray:')).sort()).toEqual(XRAY);
    }
    for (const { statements } of policies) {
      for (const action of actionsOf(statements)) expect(action).not.toMatch(/\*/);
      // Only X-Ray's two actions, which take no resource-level permissions, have the resource *.
      for (const s of statements) if (s.Resource === '*') expect(actionsOf([s]).sort()).toEqual(XRAY);
    }
  });

  it('exposes every route of the route table on both APIs, authorized except scope-none routes', () => {
    const routes = Object.values(dev.stateless.findResources('AWS::ApiGatewayV2::Route')) as {
      Properties: { RouteKey: string; AuthorizationType: string; ApiId: { Ref: string } };
    }[];
    const byApi = new Map<string, { RouteKey: string; AuthorizationType: string }[]>();
    for (const r of routes)
      byApi.set(r.Properties.ApiId.Ref, [...(byApi.get(r.Properties.ApiId.Ref) ?? []), r.Properties]);
    expect(byApi.size).toBe(2);
    const open = new Set(ROUTES.filter((r) => r.scope === 'none').map(routeKey));
    const authTypes = new Set<string>();
    for (const apiRoutes of byApi.values()) {
      expect(apiRoutes.map((r) => r.RouteKey).sort()).toEqual(ROUTES.map(routeKey).sort());
      for (const r of apiRoutes) {
        if (open.has(r.RouteKey)) expect(r.AuthorizationType).toBe('NONE');
        else authTypes.add(r.AuthorizationType);
      }
    }
    expect([...authTypes].sort()).toEqual(['AWS_IAM', 'CUSTOM']);
    dev.stateless.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      // Empty: X-API-Key or Authorization, either may be absent (allowed because caching is off).
      IdentitySource: [],
      AuthorizerResultTtlInSeconds: 0,
    });
  });

  it('logs access and throttles on every stage, with CORS on the key API', () => {
    const stages = dev.stateless.findResources('AWS::ApiGatewayV2::Stage');
    expect(Object.keys(stages)).toHaveLength(2);
    for (const stage of Object.values(stages)) {
      expect(stage).toMatchObject({
        Properties: {
          AccessLogSettings: {
            DestinationArn: expect.anything(),
            Format: expect.stringContaining('$context.requestId'),
          },
          DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        },
      });
    }
    dev.stateless.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowHeaders: Match.arrayWith(['x-api-key', 'idempotency-key', 'if-match']),
      }),
    });
  });

  it('routes stuck and retry-loop events to the alert topic and runs the stuck detector every minute', () => {
    dev.stateless.resourceCountIs('AWS::Events::EventBus', 1);
    dev.stateless.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['buildstate'], 'detail-type': ['Build State Stuck', 'Build Retry Loop'] },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('AlertTopic') } })],
    });
    dev.stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('StuckDetector'), 'Arn'] } }),
      ],
    });
  });

  it('publishes the event schemas in an EventBridge schema registry, one per detail type', () => {
    dev.stateless.hasResourceProperties('AWS::EventSchemas::Registry', { RegistryName: 'buildstate-dev' });
    const schemas = Object.values(dev.stateless.findResources('AWS::EventSchemas::Schema')) as {
      Properties: { SchemaName: string; Type: string; Content: string; RegistryName: unknown };
      DependsOn?: string[];
    }[];
    expect(schemas.map((s) => s.Properties.SchemaName).sort()).toEqual(
      EVENT_CONTRACTS.map((c) => `buildstate@${c.name}`).sort(),
    );
    for (const schema of schemas) {
      expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
      const contract = EVENT_CONTRACTS.find((c) => `buildstate@${c.name}` === schema.Properties.SchemaName)!;
      expect(JSON.parse(schema.Properties.Content)).toEqual(eventJsonSchema(contract));
      expect(schema.Properties.RegistryName).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^EventSchemasRegistry/), 'RegistryName'],
      });
    }
    dev.stateless.hasOutput('EventSchemaRegistry', {});
  });

  it('publishes events from the table stream: inserts of history and outbox items only, failures kept', () => {
    dev.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('PublisherFunction') },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { type: { S: ['history', 'event'] } } },
            }),
          },
        ],
      },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    dev.stateful.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/buildstate/dev/table-stream-arn',
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('Table'), 'StreamArn'] },
    });
    dev.stateless.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ BUILDSTATE_EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('Bus') } }),
      },
    });
  });

  it("feeds the aggregator history inserts, live item writes and build updates (reports' live copies)", () => {
    dev.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('AggregatorFunction') },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { type: { S: ['history'] } } },
            }),
          },
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT', 'MODIFY'],
              dynamodb: { NewImage: { type: { S: ['live'] } } },
            }),
          },
          {
            Pattern: JSON.stringify({
              eventName: ['MODIFY'],
              dynamodb: { NewImage: { type: { S: ['build'] } } },
            }),
          },
        ],
      },
    });
  });

  it('completes multipart uploads in a function of its own: 15 min, fed by upload records entering completing, S3 and table grants only', () => {
    const [id, completer] = Object.entries(
      dev.stateless.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('multipart upload completion') },
      }),
    )[0]!;
    expect(completer.Properties).toMatchObject({ Timeout: 900, MemorySize: 1024 });
    dev.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id },
      BatchSize: 1,
      ParallelizationFactor: 10,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT', 'MODIFY'],
              dynamodb: { NewImage: { type: { S: ['upload'] }, status: { S: ['completing'] } } },
            }),
          },
        ],
      },
    });
    const policies = policiesOf(dev.stateless).filter((p) => p.id.startsWith('UploadCompleterRole'));
    const actions = policies.flatMap((p) => actionsOf(p.statements));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'dynamodb:UpdateItem']));
    // Nothing beyond its work: no delete, no abort, no signing, no events.
    for (const a of ['s3:DeleteObject', 's3:AbortMultipartUpload', 'kms:Sign', 'events:PutEvents'])
      expect(actions).not.toContain(a);
  });

  it('grants kms:Sign on the provenance key to the signer alone, fed by completions from the stream', () => {
    const signers = policiesOf(dev.stateless)
      .filter((p) => actionsOf(p.statements).includes('kms:Sign'))
      .map((p) => p.id);
    expect(signers).toHaveLength(1);
    expect(signers[0]).toMatch(/^ProvenanceSignerRole/);
    const sign = policiesOf(dev.stateless)
      .flatMap((p) => p.statements)
      .find((st) => actionsOf([st]).includes('kms:Sign'))!;
    // On the one key (its ARN from the stateful stack's parameter), not on every key.
    expect(JSON.stringify(sign.Resource)).toMatch(/provenancesigningkeyarn/);
    dev.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('ProvenanceSignerFunction') },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { type: { S: ['history'] }, build_status: { S: ['completed'] } } },
            }),
          },
        ],
      },
    });
    for (const { stateful } of [dev, prod]) {
      stateful.hasResource('AWS::KMS::Key', {
        Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
        DeletionPolicy: 'Retain',
      });
      stateful.hasResourceProperties('AWS::SSM::Parameter', {
        Name: Match.stringLikeRegexp('provenance-signing-key-arn'),
      });
    }
  });

  it("runs the OIDC exchange outside any VPC (egress to the issuers' JWKS), on the API without an authorizer", () => {
    const [oidc] = Object.values(
      dev.stateless.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('OIDC token exchange') },
      }),
    );
    expect(oidc).toBeDefined();
    expect(oidc!.Properties.VpcConfig).toBeUndefined();
    dev.stateless.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /auth/oidc',
      AuthorizationType: 'NONE',
    });
    dev.stateless.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /trust-policies',
      AuthorizationType: 'CUSTOM',
    });
  });

  it("caches verified keys in the authorizer for the stage's TTL", () => {
    dev.stateless.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('authorizer'),
      Environment: { Variables: Match.objectLike({ BUILDSTATE_AUTH_CACHE_TTL_S: '60' }) },
    });
  });

  it("stays far below CloudFormation's 500 resources per stack: one invoke permission per function and API", () => {
    const count = (t: Template) => Object.keys(t.toJSON().Resources as object).length;
    const prodWithEmail = buildApp(
      new App({
        context: { stage: 'prod', alertEmail: 'ops@example.com', 'aws:cdk:bundling-stacks': [] },
      }),
    );
    // Every route adds two resources (one per API); the bound leaves room for ~50 more routes.
    for (const t of [
      dev.stateful,
      dev.stateless,
      prod.stateful,
      prod.stateless,
      Template.fromStack(prodWithEmail.stateless),
    ])
      expect(count(t)).toBeLessThanOrEqual(400);
    const permissions = Object.values(dev.stateless.findResources('AWS::Lambda::Permission')) as {
      Properties: { Principal: string; SourceArn?: unknown };
    }[];
    const fromApis = permissions.filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    const toAuthorizer = fromApis.filter((p) =>
      JSON.stringify(p.Properties.SourceArn).includes('/authorizers/'),
    );
    const toRoutes = fromApis.filter((p) => !toAuthorizer.includes(p));
    // The key API's authorizer; each function group invoked by both APIs, scoped to the API (…/*/*/*).
    expect(toAuthorizer).toHaveLength(1);
    expect(toRoutes).toHaveLength(2 * new Set(ROUTES.map((r) => r.group)).size);
    for (const p of toRoutes) expect(JSON.stringify(p.Properties.SourceArn)).toContain('/*/*/*');
  });

  it('can mail alerts', () => {
    dev.stateless.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmail = buildApp(
      new App({ context: { stage: 'dev', alertEmail: 'ops@example.com', 'aws:cdk:bundling-stacks': [] } }),
    );
    Template.fromStack(withEmail.stateless).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('has a dashboard and alarms that notify the alert topic', () => {
    dev.stateless.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const alarms = Object.values(dev.stateless.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(9);
    for (const alarm of alarms)
      expect(alarm).toMatchObject({ Properties: { AlarmActions: [expect.anything()] } });
    const body = JSON.stringify(dev.stateless.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('StateReports');
    // Cost per platform (#29): the aggregator's EMF metrics, one series per platform and currency.
    expect(body).toMatch(/Cost by platform and currency.*AttemptCost/);
    expect(body).toMatch(/Saved by resuming, by platform.*AvoidedCost/);
    expect(body).toContain('{BuildState,currency,platform,service}');
  });

  it('outputs the API URLs and resource names', () => {
    for (const name of [
      'ApiUrl',
      'IamApiUrl',
      'TableName',
      'ArtifactsBucketName',
      'EventBusName',
      'AlertTopicArn',
    ]) {
      dev.stateless.hasOutput(name, {});
    }
  });
});

describe('stage configuration', () => {
  it('rejects unknown stages and malformed alert emails', () => {
    expect(() => stageConfig({ stage: 'qa' })).toThrow(/stage must be one of dev, prod/);
    expect(() => stageConfig({ stage: 'dev', alertEmail: 'not-an-email' })).toThrow(/Invalid CDK context/);
    expect(stageConfig({}).stage).toBe('dev');
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('finds nothing unacknowledged in either stage', () => {
    for (const stage of ['dev', 'prod']) {
      const { app } = buildApp(new App({ context: { stage, 'aws:cdk:bundling-stacks': [] } }));
      expect(() => app.synth()).not.toThrow();
    }
  });

  it('does fail synthesis on a finding (control)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new Bucket(new Stack(app, 'Careless'), 'Open');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});

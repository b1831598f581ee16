/** Resources that hold data: the single table and the artifacts bucket (plus its access-log bucket). */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import {
  ALL_INDEXES,
  PARTITION_KEY,
  SORT_KEY,
  STREAM_VIEW_TYPE,
  TTL_ATTRIBUTE,
} from '../lib/db/table-definition';
import { resourceNames, type StageConfig } from './config';

export interface StatefulStackProps extends StackProps {
  config: StageConfig;
}

export class StatefulStack extends Stack {
  readonly table: TableV2;
  readonly artifactsBucket: Bucket;
  readonly signingKey: Key;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const names = resourceNames(config.stage);

    // Built from the same definition as DynamoDB Local's table (lib/db/table-definition.ts).
    this.table = new TableV2(this, 'Table', {
      tableName: names.table,
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: config.retainData,
      removalPolicy,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      dynamoStream: StreamViewType[STREAM_VIEW_TYPE],
      globalSecondaryIndexes: ALL_INDEXES.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        ...(index.include === 'ALL'
          ? { projectionType: ProjectionType.ALL }
          : { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.include] }),
      })),
    });

    const accessLogs = new Bucket(this, 'AccessLogs', {
      bucketName: names.accessLogsBucket,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(config.logRetentionDays) }],
      removalPolicy,
    });

    this.artifactsBucket = new Bucket(this, 'Artifacts', {
      bucketName: names.artifactsBucket,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy,
    });

    // Signs provenance (docs/PROVENANCE.md): an asymmetric key never leaves KMS. Retained like the
    // data: a deleted key could no longer sign, and its public key stays in the bucket anyway.
    this.signingKey = new Key(this, 'ProvenanceSigningKey', {
      description: 'Signs the SLSA provenance of completed builds (ECDSA P-256, SHA-256)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new StringParameter(this, 'SigningKeyArn', {
      parameterName: names.signingKeyParameter,
      description: 'ARN of the provenance signing key (read by the provenance functions)',
      stringValue: this.signingKey.keyArn,
    });

    // The stateless stack's stream consumer finds the stream through this parameter.
    new StringParameter(this, 'TableStreamArn', {
      parameterName: names.tableStreamParameter,
      description: 'Stream ARN of the BuildState table (read by the event publisher)',
      stringValue: this.table.tableStreamArn!,
    });
  }
}

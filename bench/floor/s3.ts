import type { Tracer } from '@aws-lambda-powertools/tracer';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export const make = (tracer: Tracer) => [
  tracer.captureAWSv3Client(new S3Client({})),
  HeadObjectCommand,
  getSignedUrl,
];

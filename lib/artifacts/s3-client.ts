import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/env';

export function createS3Client(cfg: Pick<Config, 'region' | 's3Endpoint'>): S3Client {
  return new S3Client({
    region: cfg.region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 10_000 },
    // With the SDK's default (WHEN_SUPPORTED) presigned PUTs carry the CRC32 of an empty body and
    // real S3 rejects the upload; the local server would also store aws-chunked framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(cfg.s3Endpoint
      ? {
          endpoint: cfg.s3Endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        }
      : {}),
  });
}

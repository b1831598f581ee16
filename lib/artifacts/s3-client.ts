import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/env';
import { STORE_TIMEOUTS } from '../db/client';

export function createS3Client(cfg: Pick<Config, 'region' | 's3Endpoint'>): S3Client {
  return new S3Client({
    region: cfg.region,
    // Like the table's client (lib/db/client.ts): a stalled call ends well before the function does.
    // The request timeout runs until the response headers; a long download is not cut by it.
    maxAttempts: STORE_TIMEOUTS.attempts,
    requestHandler: {
      connectionTimeout: STORE_TIMEOUTS.connectionTimeoutMs,
      requestTimeout: STORE_TIMEOUTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
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

import { S3Client } from '@aws-sdk/client-s3';
import { clientConfig, serviceClient } from '../aws/clients';
import type { Config } from '../config/env';

/**
 * The S3 client with the service's timeouts, attempts, user agent and tracing (lib/aws/clients.ts).
 * The request timeout runs until the response headers: a long download is not cut by it.
 */
export function createS3Client(cfg: Pick<Config, 'region' | 's3Endpoint'>): S3Client {
  return serviceClient(
    new S3Client({
      ...clientConfig(cfg.region),
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
    }),
  );
}

/**
 * GET /status's artifact store check: one signed HeadBucket request, without the S3 client.
 * The dashboard function needs nothing else from S3, and the client (with its ~140 KB of
 * operation schemas, XML and checksum code) was a fifth of its bundle. The signer is the SDK's own
 * (@smithy/signature-v4, which the DynamoDB client already brings); credentials come from the
 * standard chain (in Lambda bundles, the environment: infra/bundling/lambda-credentials.ts).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../auth/sha256';
import type { Config } from '../config/env';
import { STORE_TIMEOUTS } from '../db/client';
import { AppError } from '../errors';

type BucketConfig = Pick<Config, 'region' | 's3Endpoint'> & { artifactsBucket: string };

/** Resolves when the bucket answers HeadBucket with 200; `503 unavailable` otherwise (as ArtifactStore.ping). */
export function bucketCheck(cfg: BucketConfig): () => Promise<void> {
  // The local server (s3rver) takes path-style requests and fixed credentials, as lib/artifacts/s3-client.ts.
  const url = cfg.s3Endpoint
    ? new URL(`${cfg.s3Endpoint.replace(/\/$/, '')}/${encodeURIComponent(cfg.artifactsBucket)}`)
    : new URL(`https://${cfg.artifactsBucket}.s3.${cfg.region}.amazonaws.com/`);
  const signer = new SignatureV4({
    service: 's3',
    region: cfg.region,
    sha256: Sha256,
    credentials: cfg.s3Endpoint ? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } : defaultProvider(),
    uriEscapePath: false,
  });
  return async () => {
    let status: number;
    try {
      const signed = await signer.sign({
        method: 'HEAD',
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query: {},
        // The payload hash S3 wants in a header (the empty body's).
        headers: {
          host: url.host,
          'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        },
      });
      status = await head(url, signed.headers);
    } catch (cause) {
      throw unavailable(cfg.artifactsBucket, cause);
    }
    if (status !== 200) throw unavailable(cfg.artifactsBucket, new Error(`HeadBucket answered ${status}`));
  };
}

function head(url: URL, headers: Record<string, string>): Promise<number> {
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'HEAD', headers, timeout: STORE_TIMEOUTS.connectionTimeoutMs });
    // Connection timeout first; once connected, until the response headers.
    req.on('socket', (socket) =>
      socket.once(url.protocol === 'http:' ? 'connect' : 'secureConnect', () =>
        req.setTimeout(STORE_TIMEOUTS.requestTimeoutMs),
      ),
    );
    req.on('timeout', () => req.destroy(new Error('HeadBucket timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.end();
  });
}

const unavailable = (bucket: string, cause: unknown) =>
  new AppError(
    'unavailable',
    'The artifact store is unavailable; retry shortly',
    { store: 's3', bucket },
    { cause },
  );

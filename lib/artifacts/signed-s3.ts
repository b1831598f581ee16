/**
 * The two S3 calls the states and dashboard functions make, as signed HTTP requests without the
 * S3 client: HeadBucket (GET /status's check) and the PUT of an empty pointer object (a state
 * report's artifacts). The client, with its ~140 KB of operation schemas, XML and checksum code,
 * was a third of those bundles; the artifacts function, which uploads, verifies and presigns,
 * keeps it (lib/artifacts/artifact.store.ts). The signer is the SDK's own (@smithy/signature-v4,
 * which the DynamoDB client already brings); credentials come from the standard chain (in Lambda
 * bundles, the environment: infra/bundling/lambda-credentials.ts). Errors read as ArtifactStore's:
 * a missing bucket or an outage is `503 unavailable`, anything else is thrown as it is.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../auth/sha256';
import type { Config } from '../config/env';
import { STORE_TIMEOUTS } from '../db/client';
import { AppError } from '../errors';

export type SignedS3Config = Pick<Config, 'region' | 's3Endpoint'> & { artifactsBucket: string };

/** The empty body's SHA-256, which S3 wants in x-amz-content-sha256. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A path segment as S3 signs it: RFC 3986 unreserved characters kept, everything else escaped once. */
const escapeSegment = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export class SignedS3 {
  readonly bucket: string;
  private readonly base: URL;
  private readonly signer: SignatureV4;

  constructor(cfg: SignedS3Config) {
    this.bucket = cfg.artifactsBucket;
    // The local server (s3rver) takes path-style requests and fixed credentials, as lib/artifacts/s3-client.ts.
    this.base = cfg.s3Endpoint
      ? new URL(`${cfg.s3Endpoint.replace(/\/$/, '')}/${escapeSegment(cfg.artifactsBucket)}`)
      : new URL(`https://${cfg.artifactsBucket}.s3.${cfg.region}.amazonaws.com`);
    this.signer = new SignatureV4({
      service: 's3',
      region: cfg.region,
      sha256: Sha256,
      credentials: cfg.s3Endpoint ? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } : defaultProvider(),
      // S3 signs the path as sent (each segment escaped once), not escaped twice as other services.
      uriEscapePath: false,
    });
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** Resolves when the bucket answers; `503 unavailable` otherwise. */
  async headBucket(): Promise<void> {
    const status = await this.send('HEAD', '', {});
    if (status !== 200) throw unavailable(this.bucket, new Error(`HeadBucket answered ${status}`));
  }

  /** Writes a zero-byte pointer object whose metadata describes an artifact stored elsewhere. */
  async putPointer(key: string, metadata: Record<string, string>): Promise<void> {
    const headers: Record<string, string> = { 'content-length': '0' };
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
    const status = await this.send('PUT', key, headers);
    if (status === 200) return;
    // A missing bucket (404 NoSuchBucket) reads as an outage of the store, as in ArtifactStore.
    if (status === 404) throw unavailable(this.bucket, new Error('NoSuchBucket'));
    throw new Error(`PutObject ${key} answered ${status}`);
  }

  /**
   * One request, signed now; a network failure or a 5xx is retried once (both calls are
   * idempotent), as the SDK's clients do here (STORE_TIMEOUTS.attempts), then `503 unavailable`.
   */
  private async send(method: 'HEAD' | 'PUT', key: string, headers: Record<string, string>): Promise<number> {
    const path = `${this.base.pathname.replace(/\/$/, '')}/${key.split('/').map(escapeSegment).join('/')}`;
    let failure: unknown;
    for (let attempt = 0; attempt < STORE_TIMEOUTS.attempts; attempt++) {
      try {
        const signed = await this.signer.sign({
          method,
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port ? Number(this.base.port) : undefined,
          path,
          query: {},
          headers: { ...headers, host: this.base.host, 'x-amz-content-sha256': EMPTY_SHA256 },
        });
        const status = await request(new URL(path, this.base), method, signed.headers);
        if (status < 500) return status;
        failure = new Error(`S3 answered ${status}`);
      } catch (error) {
        failure = error;
      }
    }
    throw unavailable(this.bucket, failure);
  }
}

/** Sends a bodiless request; resolves with the status once the response headers arrived. */
function request(url: URL, method: string, headers: Record<string, string>): Promise<number> {
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, timeout: STORE_TIMEOUTS.connectionTimeoutMs });
    // The connection timeout until connected, then the request timeout until the response headers.
    req.on('socket', (socket) =>
      socket.once(url.protocol === 'http:' ? 'connect' : 'secureConnect', () =>
        req.setTimeout(STORE_TIMEOUTS.requestTimeoutMs),
      ),
    );
    req.on('timeout', () => req.destroy(new Error(`S3 ${method} timed out`)));
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

/**
 * The S3 calls the Lambda functions make, as signed HTTP requests without the S3 client:
 * HeadBucket (GET /status), PUT of an empty pointer object (a state report's artifacts, a
 * registration), HeadObject and GetObject (verification), and presigned PUT and GET URLs. The
 * client with its presigner (~190 KB of operation schemas, XML, checksum and endpoint code) was a
 * third of those bundles. The signer is the SDK's own (@smithy/signature-v4, shared with the
 * other signed calls: lib/aws/signed-http.ts), and presigned URLs are the presigner's byte for byte
 * (test/int/signed-s3.int.test.ts); credentials come from the standard chain (in Lambda bundles,
 * the environment: infra/bundling/lambda-credentials.ts). Errors read as ArtifactStore's (the
 * client's, for scripts and the sweep): a missing bucket or an outage is `503 unavailable`,
 * anything else is thrown as it is.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SignatureV4 } from '@smithy/signature-v4';
import { awsSigner, dnsSuffix, STORE_TIMEOUTS, sendRequest } from '../aws/signed-http';
import type { Config } from '../config/env';
import {
  META_PREFIX,
  type ObjectFacts,
  type ObjectStore,
  objectHeaders,
  type PresignedDownload,
  type PresignedUpload,
  storeUnavailable,
  uploadCurl,
} from './object-store';

export interface SignedS3Config extends Pick<Config, 'region' | 's3Endpoint'> {
  artifactsBucket: string;
  presignExpirySeconds?: number;
  /** Signing time and expiry of presigned URLs (tests). */
  clock?: () => Date;
}

/** The empty body's SHA-256, which S3 wants in x-amz-content-sha256. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 escaping as S3 signs it: unreserved characters kept, everything else escaped once. */
const escapeUri = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

type Query = Record<string, string>;

/** HeadBucket and pointer objects: all the states and dashboard functions need. */
export class SignedS3 {
  readonly bucket: string;
  protected readonly base: URL;
  protected readonly signer: SignatureV4;
  protected readonly expirySeconds: number;
  protected readonly clock: () => Date;

  constructor(cfg: SignedS3Config) {
    this.bucket = cfg.artifactsBucket;
    this.expirySeconds = cfg.presignExpirySeconds ?? 3600;
    this.clock = cfg.clock ?? (() => new Date());
    // The local server (s3rver) takes path-style requests and fixed credentials, as lib/artifacts/s3-client.ts.
    this.base = cfg.s3Endpoint
      ? new URL(`${cfg.s3Endpoint.replace(/\/$/, '')}/${escapeUri(cfg.artifactsBucket)}`)
      : new URL(`https://${cfg.artifactsBucket}.s3.${cfg.region}.${dnsSuffix(cfg.region)}`);
    this.signer = awsSigner({
      service: 's3',
      region: cfg.region,
      ...(cfg.s3Endpoint ? { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } : {}),
      // S3 signs the path as sent (each segment escaped once), not escaped twice as other services.
      uriEscapePath: false,
    });
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** Resolves when the bucket answers; `503 unavailable` otherwise. */
  async ping(): Promise<void> {
    const res = await this.send('HEAD', '', {});
    res.resume();
    if (res.statusCode !== 200)
      throw storeUnavailable(this.bucket, new Error(`HeadBucket answered ${res.statusCode}`));
  }

  /** Writes a zero-byte pointer object whose metadata describes an artifact stored elsewhere. */
  async putPointer(key: string, metadata: Record<string, string>): Promise<void> {
    const headers = { 'content-length': '0', ...objectHeaders(metadata) };
    const res = await this.send('PUT', key, headers);
    if (res.statusCode !== 200) await this.fail('PutObject', res);
    res.resume();
  }

  protected path(key: string): string {
    return `${this.base.pathname.replace(/\/$/, '')}/${key.split('/').map(escapeUri).join('/')}`;
  }

  protected request(method: string, key: string, headers: Record<string, string>, query: Query) {
    return {
      method,
      protocol: this.base.protocol,
      hostname: this.base.hostname,
      port: this.base.port ? Number(this.base.port) : undefined,
      path: this.path(key),
      query,
      headers: { ...headers, host: this.base.host },
    };
  }

  /**
   * One request, signed now; a network failure or a 5xx is retried once (every call here is
   * idempotent), as the SDK's clients do here (STORE_TIMEOUTS.attempts), then `503 unavailable`.
   */
  protected async send(
    method: 'HEAD' | 'PUT' | 'GET',
    key: string,
    headers: Record<string, string>,
    query: Query = {},
  ): Promise<IncomingMessage> {
    const search = Object.entries(query)
      .map(([name, value]) => `${escapeUri(name)}=${escapeUri(value)}`)
      .join('&');
    const url = new URL(`${this.path(key)}${search ? `?${search}` : ''}`, this.base);
    let failure: unknown;
    for (let attempt = 0; attempt < STORE_TIMEOUTS.attempts; attempt++) {
      try {
        const signed = await this.signer.sign(
          this.request(method, key, { ...headers, 'x-amz-content-sha256': EMPTY_SHA256 }, query),
        );
        const res = await sendRequest(url, method, signed.headers);
        if ((res.statusCode ?? 0) < 500) return res;
        res.resume();
        failure = new Error(`S3 answered ${res.statusCode}`);
      } catch (error) {
        failure = error;
      }
    }
    throw storeUnavailable(this.bucket, failure);
  }

  /** A failed object call: a missing bucket reads as an outage of the store; anything else is thrown. */
  protected async fail(operation: string, res: IncomingMessage): Promise<never> {
    let body = '';
    for await (const chunk of res as AsyncIterable<Buffer>) body += chunk.toString('utf8');
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? String(res.statusCode);
    if (code === 'NoSuchBucket') throw storeUnavailable(this.bucket, new Error(code));
    throw Object.assign(new Error(`${operation} answered ${res.statusCode} ${code}`), { name: code });
  }
}

/** The whole object store (the artifacts function): also verification and presigned URLs. */
export class SignedObjectStore extends SignedS3 implements ObjectStore {
  /** Size, metadata and (when S3 has one) checksum of an object (or of one version); null when there is none. */
  async head(key: string, versionId: string | null = null): Promise<ObjectFacts | null> {
    const res = await this.send(
      'HEAD',
      key,
      { 'x-amz-checksum-mode': 'ENABLED' },
      versionId ? { versionId } : {},
    );
    res.resume();
    if (res.statusCode === 404) {
      // HEAD answers a bare 404 for a missing bucket too: tell the two apart.
      await this.ping();
      return null;
    }
    if (res.statusCode !== 200) throw new Error(`HeadObject ${key} answered ${res.statusCode}`);
    const h = res.headers;
    const one = (name: string) => {
      const v = h[name];
      return typeof v === 'string' ? v : null;
    };
    const checksum = one('x-amz-checksum-sha256');
    // Multipart uploads carry a checksum of checksums ("…-N"), which is not the object's SHA-256.
    const full = checksum && !checksum.includes('-') && one('x-amz-checksum-type') !== 'COMPOSITE';
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(h))
      if (name.startsWith(META_PREFIX) && typeof value === 'string')
        metadata[name.slice(META_PREFIX.length)] = value;
    const modified = one('last-modified');
    return {
      size: Number(one('content-length') ?? 0),
      metadata,
      sha256: full ? Buffer.from(checksum, 'base64').toString('hex') : null,
      lastModified: modified ? new Date(modified) : null,
      etag: one('etag'),
      versionId: one('x-amz-version-id'),
    };
  }

  /**
   * Reads the object once and hashes it (used when S3 holds no full-object checksum). The ETag and
   * version are those of the very bytes hashed (from the same response).
   */
  async sha256(
    key: string,
  ): Promise<{ sha256: string; size: number; etag: string | null; versionId: string | null }> {
    const res = await this.send('GET', key, {});
    if (res.statusCode !== 200) return this.fail('GetObject', res);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
      }
    } catch (cause) {
      throw storeUnavailable(this.bucket, cause);
    }
    const header = (name: string) =>
      typeof res.headers[name] === 'string' ? (res.headers[name] as string) : null;
    return { sha256: hash.digest('hex'), size, etag: header('etag'), versionId: header('x-amz-version-id') };
  }

  /**
   * A presigned PUT that binds the metadata, and when known the checksum and size: S3 rejects an
   * upload whose headers differ from the signed ones, and validates x-amz-checksum-sha256 against
   * the bytes it receives.
   */
  async presignPut(
    key: string,
    metadata: Record<string, string>,
    sha256Hex: string | null,
    sizeBytes: number | null,
  ): Promise<PresignedUpload> {
    const headers = objectHeaders(metadata, sha256Hex);
    const signed = new Set(Object.keys(headers));
    const signedHeaders = { ...headers };
    if (sizeBytes !== null) {
      signed.add('content-length');
      signedHeaders['content-length'] = String(sizeBytes);
    }
    const url = await this.presign('PUT', key, signedHeaders, { 'x-id': 'PutObject' }, signed);
    return { url, method: 'PUT', headers, expires_at: this.expiresAt(), curl: uploadCurl(key, headers, url) };
  }

  /** A download URL; with `versionId` (a versioned bucket), of exactly that version of the object. */
  async presignGet(key: string, versionId: string | null = null): Promise<PresignedDownload> {
    const query: Query = { ...(versionId ? { versionId } : {}), 'x-id': 'GetObject' };
    return { url: await this.presign('GET', key, {}, query, new Set()), expires_at: this.expiresAt() };
  }

  private expiresAt(): string {
    return new Date(this.clock().getTime() + this.expirySeconds * 1000).toISOString();
  }

  /** As the SDK's presigner: the payload unsigned, the named headers signed and kept as headers. */
  private async presign(
    method: 'GET' | 'PUT',
    key: string,
    headers: Record<string, string>,
    query: Query,
    signed: Set<string>,
  ): Promise<string> {
    const presigned = await this.signer.presign(
      // Spelled as the presigner does: the signer hoists it into the query under this name.
      this.request(method, key, { ...headers, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' }, query),
      {
        expiresIn: this.expirySeconds,
        signingDate: this.clock(),
        signableHeaders: signed,
        unhoistableHeaders: signed,
      },
    );
    const q = presigned.query as Query;
    const search = Object.keys(q)
      .sort()
      .map((name) => `${escapeUri(name)}=${escapeUri(q[name]!)}`)
      .join('&');
    return `${this.base.protocol}//${this.base.host}${presigned.path}?${search}`;
  }
}

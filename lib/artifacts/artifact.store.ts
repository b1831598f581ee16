/**
 * The S3 code: the SDK's S3 client and presigner (lib/artifacts/s3-client.ts). Objects live under
 * builds/{build_id}/states/{code}/{name} in one bucket; their user metadata (uri, storage_type,
 * sha256, size_bytes, format, …) makes each one self-describing. A missing bucket or an outage is
 * `503 unavailable`; anything else is thrown as it is.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isOutage } from '../db/errors';
import {
  type ObjectFacts,
  type ObjectStore,
  objectHeaders,
  type PresignedDownload,
  type PresignedUpload,
  storeForbidden,
  storeUnavailable,
  uploadCurl,
} from './object-store';

export type { ObjectFacts, ObjectStore, PresignedDownload, PresignedUpload } from './object-store';

/** One part of a multipart upload as S3 holds it (ListParts) or as CompleteMultipartUpload names it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  size?: number;
  /** Base64 SHA-256 of the part, when the upload was created with ChecksumAlgorithm SHA256. */
  checksumSha256?: string;
}

/** How long one CompleteMultipartUpload may take. */
const COMPLETE_TIMEOUT_MS = 15 * 60_000;

const base64OfHex = (hex: string | null) => (hex ? Buffer.from(hex, 'hex').toString('base64') : undefined);

export class ArtifactStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly presignExpirySeconds: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  uriOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** Writes a zero-byte pointer object whose metadata describes an artifact stored elsewhere. */
  async putPointer(key: string, metadata: Record<string, string>): Promise<void> {
    await this.s3
      .send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: '',
          ContentLength: 0,
          Metadata: metadata,
        }),
      )
      .catch((e) => this.fail(e));
  }

  /** Size, metadata and (when S3 has one) checksum of an object (or of one version); null when there is none. */
  async head(key: string, versionId: string | null = null): Promise<ObjectFacts | null> {
    try {
      const res = await this.s3.send(
        new HeadObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ChecksumMode: 'ENABLED',
          VersionId: versionId ?? undefined,
        }),
      );
      // Multipart uploads carry a checksum of checksums ("…-N"), which is not the object's SHA-256.
      const full =
        res.ChecksumSHA256 && !res.ChecksumSHA256.includes('-') && res.ChecksumType !== 'COMPOSITE';
      return {
        size: res.ContentLength ?? 0,
        metadata: res.Metadata ?? {},
        sha256: full ? Buffer.from(res.ChecksumSHA256!, 'base64').toString('hex') : null,
        crc32: res.ChecksumCRC32 && res.ChecksumType !== 'COMPOSITE' ? res.ChecksumCRC32 : null,
        lastModified: res.LastModified ?? null,
        etag: res.ETag ?? null,
        versionId: res.VersionId ?? null,
      };
    } catch (error) {
      if ((error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') {
        // HEAD answers a bare 404 for a missing bucket too: tell the two apart.
        await this.assertBucket();
        return null;
      }
      return this.fail(error);
    }
  }

  /**
   * Reads the object once and hashes it (used when S3 holds no full-object checksum). The ETag and
   * version are those of the very bytes hashed (from the same response).
   */
  async sha256(
    key: string,
  ): Promise<{ sha256: string; size: number; etag: string | null; versionId: string | null }> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        size += chunk.length;
      }
      return { sha256: hash.digest('hex'), size, etag: res.ETag ?? null, versionId: res.VersionId ?? null };
    } catch (error) {
      return this.fail(error);
    }
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
    const checksum = base64OfHex(sha256Hex);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Metadata: metadata,
      ChecksumSHA256: checksum,
      ContentLength: sizeBytes ?? undefined,
    });
    const headers = objectHeaders(metadata, sha256Hex);
    const signed = new Set(Object.keys(headers));
    if (sizeBytes !== null) signed.add('content-length');
    const url = await getSignedUrl(this.s3, command, {
      expiresIn: this.presignExpirySeconds,
      signableHeaders: signed,
      unhoistableHeaders: new Set(Object.keys(headers)),
    });
    return { url, method: 'PUT', headers, expires_at: this.expiresAt(), curl: uploadCurl(key, headers, url) };
  }

  /** A download URL; with `versionId` (a versioned bucket), of exactly that version of the object. */
  async presignGet(key: string, versionId: string | null = null): Promise<PresignedDownload> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      VersionId: versionId ?? undefined,
    });
    const url = await getSignedUrl(this.s3, command, { expiresIn: this.presignExpirySeconds });
    return { url, expires_at: this.expiresAt() };
  }

  /**
   * Starts a multipart upload whose object carries `metadata`; with `sha256Parts`, every part must
   * carry its SHA-256 (S3 then keeps a COMPOSITE checksum, a checksum of the parts' checksums).
   */
  async createMultipartUpload(
    key: string,
    metadata: Record<string, string>,
    options: { sha256Parts?: boolean } = {},
  ): Promise<string> {
    const res = await this.s3
      .send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          Metadata: metadata,
          ...(options.sha256Parts ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
        }),
      )
      .catch((e) => this.fail(e));
    return res.UploadId!;
  }

  /**
   * A presigned PUT of one part; with `sha256Hex`, the part's checksum header is signed (S3 rejects
   * other bytes), and with `sizeBytes` its length.
   */
  async presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    sha256Hex: string | null,
    sizeBytes: number | null,
  ): Promise<PresignedUpload> {
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      ChecksumSHA256: base64OfHex(sha256Hex),
      ContentLength: sizeBytes ?? undefined,
    });
    const headers = objectHeaders({}, sha256Hex);
    const signed = new Set(Object.keys(headers));
    if (sizeBytes !== null) signed.add('content-length');
    const url = await getSignedUrl(this.s3, command, {
      expiresIn: this.presignExpirySeconds,
      signableHeaders: signed,
      unhoistableHeaders: new Set(Object.keys(headers)),
    });
    return { url, method: 'PUT', headers, expires_at: this.expiresAt(), curl: uploadCurl(key, headers, url) };
  }

  /**
   * Starts a multipart upload whose object gets a FULL_OBJECT CRC32 checksum: every part carries
   * its own CRC32 and CompleteMultipartUpload the whole object's, which S3 checks against the
   * assembled bytes.
   */
  async createCrcMultipartUpload(key: string, metadata: Record<string, string>): Promise<string> {
    const res = await this.s3
      .send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          Metadata: metadata,
          ChecksumAlgorithm: 'CRC32',
          ChecksumType: 'FULL_OBJECT',
        }),
      )
      .catch((e) => this.fail(e));
    return res.UploadId!;
  }

  /**
   * A presigned PUT of one part that binds its length and its CRC32 (base64): S3 refuses a
   * part whose bytes do not match (BadDigest), so a corrupted part is never stored.
   */
  async presignCrcPart(
    key: string,
    uploadId: string,
    partNumber: number,
    crc32: string,
    sizeBytes: number,
  ): Promise<PresignedUpload> {
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: partNumber,
      ChecksumCRC32: crc32,
      ContentLength: sizeBytes,
    });
    const headers = { 'x-amz-checksum-crc32': crc32 };
    const url = await getSignedUrl(this.s3, command, {
      expiresIn: this.presignExpirySeconds,
      signableHeaders: new Set([...Object.keys(headers), 'content-length']),
      unhoistableHeaders: new Set(Object.keys(headers)),
    });
    return { url, method: 'PUT', headers, expires_at: this.expiresAt(), curl: uploadCurl(key, headers, url) };
  }

  /**
   * Joins CRC32 parts into the object, sending the whole object's CRC32: S3 refuses the
   * completion (BadDigest / InvalidPart) when the assembled bytes do not match it.
   */
  async completeCrcMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string; crc32: string }[],
    crc32: string,
  ): Promise<{ etag: string | null; versionId: string | null }> {
    const res = await this.s3
      .send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          ChecksumCRC32: crc32,
          ChecksumType: 'FULL_OBJECT',
          MultipartUpload: {
            Parts: parts.map((p) => ({
              PartNumber: p.partNumber,
              ETag: p.etag,
              ChecksumCRC32: p.crc32,
            })),
          },
        }),
        // S3 may take minutes to assemble thousands of parts (and s3rver copies them): the store's
        // usual 4 s would cut it off and a retry would race the first completion.
        { requestTimeout: COMPLETE_TIMEOUT_MS },
      )
      .catch((e) => this.fail(e));
    return { etag: res.ETag ?? null, versionId: res.VersionId ?? null };
  }

  /** The parts S3 holds for an upload, in part order (every page): what a resumed upload skips. */
  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    do {
      const res = await this.s3
        .send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumberMarker: marker,
          }),
        )
        .catch((e) => this.fail(e));
      for (const p of res.Parts ?? [])
        parts.push({
          partNumber: p.PartNumber!,
          etag: p.ETag!,
          ...(p.Size !== undefined ? { size: p.Size } : {}),
          ...(p.ChecksumSHA256 ? { checksumSha256: p.ChecksumSHA256 } : {}),
        });
      marker = res.IsTruncated ? res.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  /** Joins the parts into the object; the ETag and version of the object made. */
  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly UploadedPart[],
  ): Promise<{ etag: string | null; versionId: string | null }> {
    const res = await this.s3
      .send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({
              PartNumber: p.partNumber,
              ETag: p.etag,
              ...(p.checksumSha256 ? { ChecksumSHA256: p.checksumSha256 } : {}),
            })),
          },
        }),
      )
      .catch((e) => this.fail(e));
    return { etag: res.ETag ?? null, versionId: res.VersionId ?? null };
  }

  /** Frees the parts of an upload that will not be completed. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
      .catch((e) => this.fail(e));
  }

  async *list(prefix: string): AsyncGenerator<{ key: string; size: number; lastModified: Date | null }> {
    let token: string | undefined;
    do {
      const res = await this.s3
        .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }))
        .catch((e) => this.fail(e));
      for (const o of res.Contents ?? [])
        yield { key: o.Key!, size: o.Size ?? 0, lastModified: o.LastModified ?? null };
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch((e) => this.fail(e));
  }

  /** Whether the bucket answers (HeadBucket); `503 unavailable` otherwise. */
  async ping(): Promise<void> {
    await this.assertBucket();
  }

  private async assertBucket(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      throw storeUnavailable(this.bucket, error);
    }
  }

  private expiresAt(): string {
    return new Date(this.clock().getTime() + this.presignExpirySeconds * 1000).toISOString();
  }

  private fail(error: unknown): never {
    const name = (error as Error).name;
    if (name === 'NoSuchBucket' || isOutage(error)) throw storeUnavailable(this.bucket, error);
    // S3 refusing the service itself (its role, a bucket or key policy; a HEAD's 403 has no body,
    // so no error code) is the deployment's fault, not the caller's, and never a 500.
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) {
      throw storeForbidden(this.bucket, error);
    }
    throw error;
  }
}

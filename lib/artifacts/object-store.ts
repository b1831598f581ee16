/** The object store's surface as the artifact rules see it, and what its presigned URLs look like. */
import { AppError } from '../errors';

/** How S3 carries user metadata in headers. */
export const META_PREFIX = 'x-amz-meta-';

/** An object's metadata as S3 headers, and when known its checksum (what a presigned PUT binds). */
export function objectHeaders(metadata: Record<string, string>, sha256Hex: string | null = null) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) headers[`${META_PREFIX}${name}`] = value;
  if (sha256Hex) headers['x-amz-checksum-sha256'] = Buffer.from(sha256Hex, 'hex').toString('base64');
  return headers;
}

/** A missing bucket or an outage of the store: `503 unavailable`. */
export const storeUnavailable = (bucket: string, cause: unknown) =>
  new AppError(
    'unavailable',
    'The artifact store is unavailable; retry shortly',
    { store: 's3', bucket },
    { cause },
  );

/** S3 refused the service's own access (403): a fault of the deployment's permissions. */
export const storeForbidden = (bucket: string, cause: unknown) =>
  new AppError(
    'unavailable',
    "The artifact store refused the service's access (S3 answered 403): the deployment's permissions on the bucket need fixing",
    { store: 's3', bucket, reason: 'access_denied' },
    { cause },
  );

export interface ObjectFacts {
  size: number;
  metadata: Record<string, string>;
  /** Hex SHA-256 of the whole object when S3 stored a full-object checksum for it. */
  sha256: string | null;
  /** Base64 full-object CRC32 when S3 kept one (multipart uploads made by `bldst`). */
  crc32?: string | null;
  lastModified: Date | null;
  /** Changes whenever the object is written again (with other bytes). */
  etag: string | null;
  /** Set in a versioned bucket. */
  versionId: string | null;
}

export interface PresignedUpload {
  url: string;
  method: 'PUT';
  /** Headers the upload must carry exactly (they are part of the signature). */
  headers: Record<string, string>;
  expires_at: string;
  /** The same upload as one shell command, reading the file named like the artifact. */
  curl: string;
}

export interface PresignedDownload {
  url: string;
  expires_at: string;
}

/**
 * What the artifact rules need of the object store: ArtifactStore (./artifact.store.ts) over the
 * SDK's S3 client implements it, for the functions, scripts and the orphan sweep alike.
 */
export interface ObjectStore {
  readonly bucket: string;
  uriOf(key: string): string;
  putPointer(key: string, metadata: Record<string, string>): Promise<void>;
  head(key: string, versionId?: string | null): Promise<ObjectFacts | null>;
  sha256(
    key: string,
  ): Promise<{ sha256: string; size: number; etag: string | null; versionId: string | null }>;
  presignPut(
    key: string,
    metadata: Record<string, string>,
    sha256Hex: string | null,
    sizeBytes: number | null,
  ): Promise<PresignedUpload>;
  presignGet(key: string, versionId?: string | null): Promise<PresignedDownload>;
}

/** A presigned upload as one shell command, reading the file named like the artifact. */
export function uploadCurl(key: string, headers: Record<string, string>, url: string): string {
  return [
    `curl -sS --fail -T ${shellQuote(key.slice(key.lastIndexOf('/') + 1))}`,
    ...Object.entries(headers).map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`),
    shellQuote(url),
  ].join(' ');
}

const shellQuote = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;

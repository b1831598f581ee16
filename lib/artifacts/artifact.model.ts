export const STORAGE_TYPES = ['s3', 'nfs', 'ebs', 'ceph', 'azure_blob', 'gcs', 'http', 'other'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

/**
 * An artifact a state produced. Its own, self-describing record is an S3 object: the artifact itself
 * when BuildState manages the bytes (`managed`), otherwise a zero-byte pointer whose user metadata
 * holds the location and checksum. This DynamoDB copy exists for queries.
 */
export interface Artifact {
  build_id: string;
  state_code: number;
  name: string;
  storage_type: StorageType;
  /** True when the S3 object under `object_key` is the artifact (uploaded with a presigned URL). */
  managed: boolean;
  /** Where the bytes are: s3://bucket/key for managed artifacts, the given URI otherwise. */
  uri: string;
  /** Key of the artifact's object (managed) or pointer object (external) in the artifacts bucket. */
  object_key: string;
  size_bytes: number | null;
  /** `sha256:<64 hex>`, as registered or, for managed artifacts registered without one, as computed by verify. */
  checksum: string | null;
  format: string | null;
  metadata: Record<string, unknown>;
  verified: boolean;
  verified_at: string | null;
  /**
   * The S3 ETag (and version, in a versioned bucket) of the object whose bytes were verified
   * (managed artifacts). Before a download URL is handed out the object must still carry it;
   * otherwise the bytes changed after verification and the artifact is unverified again.
   */
  verified_etag?: string | null;
  verified_version_id?: string | null;
  created_by: string;
  created_at: string;
}

/**
 * Orphan sweep. Registration writes S3 before DynamoDB, so a failure between the two can leave a
 * pointer object that no record refers to. Such objects are harmless (nothing hands them out) and
 * this removes them. Only zero-byte pointers are deleted: managed uploads always have their
 * record before their bytes, so a non-empty object without a record was not written by
 * BuildState and is reported, never deleted.
 */
import { isProvenanceObjectKey, OBJECT_PREFIX, parseObjectKey } from './artifact.keys';
import type { ArtifactRepository } from './artifact.repository';
import type { ArtifactStore } from './artifact.store';
import type { UploadRepository } from './upload.repository';
import { abortInStore, type MultipartStore } from './upload.service';

export interface SweepOptions {
  /** Delete (true) or only report (false). */
  apply: boolean;
  /** Skip objects younger than this, so registrations in flight are left alone. */
  minAgeSeconds: number;
  now?: () => Date;
}

export interface SweepReport {
  scanned: number;
  orphans: string[];
  deleted: string[];
  foreign: string[];
}

export async function sweepOrphans(
  store: ArtifactStore,
  repo: ArtifactRepository,
  options: SweepOptions,
): Promise<SweepReport> {
  const now = (options.now ?? (() => new Date()))().getTime();
  const report: SweepReport = { scanned: 0, orphans: [], deleted: [], foreign: [] };
  for await (const object of store.list(OBJECT_PREFIX)) {
    report.scanned++;
    const age = object.lastModified ? (now - object.lastModified.getTime()) / 1000 : Number.POSITIVE_INFINITY;
    if (age < options.minAgeSeconds) continue;
    // A build's provenance envelope is BuildState's own, not an orphan or a foreign object.
    if (isProvenanceObjectKey(object.key)) continue;
    const parts = parseObjectKey(object.key);
    if (parts && (await repo.get(parts.buildId, parts.stateCode, parts.name))) continue;
    if (object.size > 0 || !parts) {
      report.foreign.push(object.key);
      continue;
    }
    report.orphans.push(object.key);
    if (options.apply) {
      await store.delete(object.key);
      report.deleted.push(object.key);
    }
  }
  return report;
}

/** The age after which an unfinished multipart upload is abandoned: the bucket lifecycle rule's (infra/stateful-stack.ts). */
export const ABANDONED_UPLOAD_DAYS = 7;

export interface UploadSweepReport {
  open: number;
  /** Uploads older than the limit, by object key and upload id. */
  abandoned: { key: string; uploadId: string; createdAt: string }[];
  /** Of those, aborted in the store too (false locally: s3rver cannot abort). */
  storeAborted: number;
}

/**
 * Aborts multipart uploads still open after `maxAgeDays` (what the bucket's
 * AbortIncompleteMultipartUpload rule does in AWS) and marks their records aborted, so a re-run
 * of the upload starts a fresh one. Where the store cannot abort (the local S3 server), the
 * record is marked all the same and the report says so.
 */
export async function sweepUploads(
  store: Pick<MultipartStore, 'abortMultipartUpload'>,
  uploads: UploadRepository,
  options: { apply: boolean; maxAgeDays?: number; now?: () => Date },
): Promise<UploadSweepReport> {
  const now = (options.now ?? (() => new Date()))();
  const limit = now.getTime() - (options.maxAgeDays ?? ABANDONED_UPLOAD_DAYS) * 86_400_000;
  const report: UploadSweepReport = { open: 0, abandoned: [], storeAborted: 0 };
  for await (const u of uploads.openUploads()) {
    report.open++;
    if (Date.parse(u.created_at) > limit) continue;
    report.abandoned.push({ key: u.object_key, uploadId: u.upload_id, createdAt: u.created_at });
    if (!options.apply) continue;
    if (await abortInStore(store, u)) report.storeAborted++;
    await uploads.transition(u, u.status, 'aborted', now.toISOString());
  }
  return report;
}

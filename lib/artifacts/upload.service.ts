/**
 * Multipart uploads of managed artifacts (docs/ARTIFACTS.md "Large artifacts"). The client reads
 * the file once for its SHA-256 (the artifact's checksum) and CRC32s; every part URL binds its
 * part's CRC32, so S3 refuses a corrupted part, and completion sends the whole file's
 * CRC32, which S3 checks against the assembled object. Parts S3 accepted are confirmed in the
 * table, so a re-run continues the same upload and sends only the rest, on AWS and locally alike.
 */
import type { Principal } from '../auth/principal';
import { AppError } from '../errors';
import type { ArtifactRepository } from './artifact.repository';
import type { ArtifactOutcome, ArtifactService } from './artifact.service';
import { objectMetadata } from './artifact.service';
import type { PresignedUpload } from './object-store';
import type { Upload, UploadRepository } from './upload.repository';
import type { ConfirmPartsInput, PresignPartsInput, StartUploadInput } from './upload.schema';
import { partRange, planParts } from './upload-plan';

/** What uploads need of the object store (ArtifactStore implements it). */
export interface MultipartStore {
  createCrcMultipartUpload(key: string, metadata: Record<string, string>): Promise<string>;
  presignCrcPart(
    key: string,
    uploadId: string,
    partNumber: number,
    crc32: string,
    sizeBytes: number,
  ): Promise<PresignedUpload>;
  completeCrcMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string; crc32: string }[],
    crc32: string,
  ): Promise<{ etag: string | null; versionId: string | null }>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
}

export interface UploadServiceDeps {
  artifacts: ArtifactService;
  records: ArtifactRepository;
  uploads: UploadRepository;
  store: MultipartStore;
  clock?: () => Date;
}

/** S3's answers to a CompleteMultipartUpload whose parts or whole-object checksum do not match. */
const REFUSED_ASSEMBLY = new Set(['BadDigest', 'InvalidPart', 'InvalidRequest', 'InvalidPartOrder']);

const notOpen = (u: Pick<Upload, 'upload_id' | 'name' | 'status'>) =>
  new AppError('conflict', `Upload '${u.upload_id}' of '${u.name}' is ${u.status}`, {
    upload_id: u.upload_id,
    status: u.status,
  });

export class UploadService {
  private readonly clock: () => Date;

  constructor(private readonly deps: UploadServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * Registers the artifact (or gives an unverified one the new file's checksum) and starts its
   * multipart upload, or continues the open one when size, checksum and part size are the same. A
   * different file aborts the open upload and starts a new one.
   */
  async start(
    buildId: string,
    stateCode: number,
    name: string,
    input: StartUploadInput,
    actor: Principal,
  ): Promise<ArtifactOutcome> {
    const { partCount } = planParts(input.size_bytes, input.part_size);
    if (Math.ceil(input.size_bytes / input.part_size) !== partCount)
      throw new AppError('validation_error', `part_size ${input.part_size} makes more than 10,000 parts`, {
        field: 'part_size',
      });
    const registration = {
      name,
      storage_type: 's3' as const,
      checksum: input.checksum,
      size_bytes: input.size_bytes,
      ...(input.format ? { format: input.format } : {}),
    };
    try {
      await this.deps.artifacts.register(buildId, stateCode, registration, actor);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'artifact_exists') throw error;
      // Registered before with another file: while nothing is verified, the new file replaces it.
      const existing = await this.deps.records.get(buildId, stateCode, name);
      const replaced =
        existing && existing.managed && !existing.verified
          ? await this.deps.records.replaceUnverified(existing, {
              checksum: input.checksum,
              size_bytes: input.size_bytes,
              format: input.format ?? existing.format,
            })
          : null;
      if (!replaced) throw error;
    }
    const artifact = (await this.deps.records.get(buildId, stateCode, name))!;
    if (artifact.verified)
      throw new AppError(
        'artifact_exists',
        `Artifact '${name}' of state ${stateCode} is already uploaded and verified`,
        { build_id: buildId, state_code: stateCode, name, verified: true },
      );

    const current = await this.deps.uploads.get(buildId, stateCode, name);
    if (
      current?.status === 'open' &&
      current.checksum === input.checksum &&
      current.size_bytes === input.size_bytes &&
      current.crc32 === input.crc32 &&
      current.part_size === input.part_size
    )
      return { status: 200, body: await this.view(current, true) };
    if (current?.status === 'open') await this.abortInStore(current);

    const metadata = { ...objectMetadata(artifact), crc32: input.crc32 };
    const uploadId = await this.deps.store.createCrcMultipartUpload(artifact.object_key, metadata);
    const now = this.clock().toISOString();
    const upload: Upload = {
      build_id: buildId,
      state_code: stateCode,
      name,
      upload_id: uploadId,
      object_key: artifact.object_key,
      size_bytes: input.size_bytes,
      checksum: input.checksum,
      crc32: input.crc32,
      part_size: input.part_size,
      part_count: partCount,
      status: 'open',
      created_by: actor.id,
      created_at: now,
      updated_at: now,
    };
    if (!(await this.deps.uploads.put(upload, current?.upload_id ?? null))) {
      await this.abortInStore(upload);
      throw new AppError('conflict', `Another upload of '${name}' started at the same time; retry`, {
        build_id: buildId,
        state_code: stateCode,
        name,
      });
    }
    return { status: 201, body: await this.view(upload, false) };
  }

  /** Presigned part URLs, each binding its part's length and CRC32. */
  async presignParts(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    input: PresignPartsInput,
  ): Promise<ArtifactOutcome> {
    const u = await this.open(buildId, stateCode, name, uploadId);
    const urls = [];
    for (const p of input.parts) {
      if (p.part_number > u.part_count)
        throw new AppError(
          'validation_error',
          `part ${p.part_number} is beyond the last part ${u.part_count}`,
          {
            field: 'parts',
          },
        );
      const { start, end } = partRange(
        u.size_bytes,
        { partSize: u.part_size, partCount: u.part_count },
        p.part_number,
      );
      const signed = await this.deps.store.presignCrcPart(
        u.object_key,
        u.upload_id,
        p.part_number,
        p.crc32,
        end - start,
      );
      urls.push({ part_number: p.part_number, size_bytes: end - start, ...signed });
    }
    return { status: 200, body: { upload_id: u.upload_id, urls } };
  }

  /** Records parts S3 accepted (their ETags), so a re-run skips them. */
  async confirmParts(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    input: ConfirmPartsInput,
  ): Promise<ArtifactOutcome> {
    const u = await this.open(buildId, stateCode, name, uploadId);
    for (const p of input.parts)
      if (p.part_number > u.part_count)
        throw new AppError(
          'validation_error',
          `part ${p.part_number} is beyond the last part ${u.part_count}`,
          {
            field: 'parts',
          },
        );
    await this.deps.uploads.confirmParts(u, input.parts);
    return { status: 200, body: await this.view(u, false) };
  }

  /**
   * Completes the upload in S3 with the whole file's CRC32 (S3 checks the assembly), then
   * verifies the artifact. Every part must have been confirmed first.
   */
  async complete(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    actor: Principal,
  ): Promise<ArtifactOutcome> {
    const u = await this.current(buildId, stateCode, name, uploadId);
    // A retried completion whose first answer was lost: the object is there. Verified already:
    // the artifact as it is (no second hash of an image); else verify says the rest.
    if (u.status === 'completed') {
      const current = await this.deps.artifacts.get(buildId, stateCode, name, actor);
      if ((current.body as { verified?: boolean }).verified) return current;
      return this.deps.artifacts.verify(buildId, stateCode, name, {}, actor);
    }
    if (u.status !== 'open') throw notOpen(u);
    const parts = await this.deps.uploads.parts(u);
    const have = new Set(parts.map((p) => p.part_number));
    const missing: number[] = [];
    for (let n = 1; n <= u.part_count && missing.length < 20; n++) if (!have.has(n)) missing.push(n);
    if (missing.length)
      throw new AppError('conflict', `Upload of '${name}' is missing parts; send and confirm them first`, {
        upload_id: uploadId,
        missing_parts: missing,
      });
    // One completion at a time: a second one racing in would assemble parts the first removed.
    if (!(await this.deps.uploads.transition(u, 'open', 'completing', this.clock().toISOString())))
      throw notOpen({ ...u, status: 'completing' });
    try {
      await this.deps.store.completeCrcMultipartUpload(
        u.object_key,
        u.upload_id,
        parts.map((p) => ({ partNumber: p.part_number, etag: p.etag, crc32: p.crc32 })),
        u.crc32,
      );
    } catch (error) {
      const code = (error as Error).name;
      // Completed by an earlier attempt whose answer was lost: the object is there.
      if (code !== 'NoSuchUpload') {
        await this.deps.uploads.transition(u, 'completing', 'open', this.clock().toISOString());
        if (REFUSED_ASSEMBLY.has(code))
          throw new AppError(
            'checksum_mismatch',
            `S3 refused to assemble '${name}': ${(error as Error).message}`,
            {
              upload_id: uploadId,
              store_error: code,
            },
          );
        throw error;
      }
    }
    // The upload stays `completing` while its object is verified (locally that hashes the whole
    // image, which can outlast the request): a completion asked again meanwhile is told to wait
    // (409 completing) instead of starting a second hash beside the first.
    try {
      return await this.deps.artifacts.verify(buildId, stateCode, name, {}, actor);
    } finally {
      await this.deps.uploads.transition(u, 'completing', 'completed', this.clock().toISOString());
    }
  }

  /** Aborts an open upload (its parts are freed in S3; locally they stay until the data is deleted). */
  async abort(buildId: string, stateCode: number, name: string, uploadId: string): Promise<ArtifactOutcome> {
    const u = await this.open(buildId, stateCode, name, uploadId);
    const storeAborted = await this.abortInStore(u);
    await this.deps.uploads.close(u, 'aborted', this.clock().toISOString());
    return {
      status: 200,
      body: { ...(await this.view({ ...u, status: 'aborted' }, false)), store_aborted: storeAborted },
    };
  }

  /**
   * Aborts in S3 (see abortInStore below).
   */
  private abortInStore(u: Upload): Promise<boolean> {
    return abortInStore(this.deps.store, u);
  }

  private async open(buildId: string, stateCode: number, name: string, uploadId: string): Promise<Upload> {
    const u = await this.current(buildId, stateCode, name, uploadId);
    if (u.status !== 'open') throw notOpen(u);
    return u;
  }

  private async current(buildId: string, stateCode: number, name: string, uploadId: string): Promise<Upload> {
    const u = await this.deps.uploads.get(buildId, stateCode, name);
    if (!u || u.upload_id !== uploadId)
      throw new AppError('not_found', `No upload '${uploadId}' of artifact '${name}' (state ${stateCode})`, {
        build_id: buildId,
        state_code: stateCode,
        name,
        upload_id: uploadId,
      });
    return u;
  }

  private async view(u: Upload, resumed: boolean) {
    const parts = u.status === 'open' ? await this.deps.uploads.parts(u) : [];
    return {
      build_id: u.build_id,
      state_code: u.state_code,
      name: u.name,
      upload_id: u.upload_id,
      status: u.status,
      size_bytes: u.size_bytes,
      checksum: u.checksum,
      crc32: u.crc32,
      part_size: u.part_size,
      part_count: u.part_count,
      confirmed_parts: parts.map((p) => p.part_number),
      resumed,
      created_at: u.created_at,
    };
  }
}

/**
 * Aborts an upload in the object store; false when the store cannot (s3rver 3.7.1 has no
 * AbortMultipartUpload: its parts stay on disk until the local data is deleted). An upload S3
 * already forgot (the bucket's lifecycle rule) counts as aborted; an outage is thrown.
 */
export async function abortInStore(
  store: Pick<MultipartStore, 'abortMultipartUpload'>,
  u: Pick<Upload, 'object_key' | 'upload_id'>,
): Promise<boolean> {
  try {
    await store.abortMultipartUpload(u.object_key, u.upload_id);
    return true;
  } catch (error) {
    if (error instanceof AppError) throw error;
    return (error as Error).name === 'NoSuchUpload';
  }
}

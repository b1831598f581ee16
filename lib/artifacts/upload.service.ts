/**
 * Multipart uploads of managed artifacts (docs/ARTIFACTS.md "Large artifacts"). The client reads
 * the file once for its SHA-256 (the artifact's checksum) and CRC32s; every part URL binds its
 * part's CRC32, so S3 refuses a corrupted part, and completion sends the whole file's
 * CRC32, which S3 checks against the assembled object. Parts S3 accepted are confirmed in the
 * table, so a re-run continues the same upload and sends only the rest, on AWS and locally alike.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal';
import { AppError } from '../errors';
import { created, type Result } from '../outcome';
import type { Artifact } from './artifact.model';
import type { ArtifactRepository } from './artifact.repository';
import type { ArtifactService } from './artifact.service';
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
  /** How long a completion job holds its upload before a completion asked again restarts it. */
  completionLeaseMs?: number;
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
  private readonly leaseMs: number;

  constructor(private readonly deps: UploadServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.leaseMs = deps.completionLeaseMs ?? 60_000;
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
  ): Promise<Result> {
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
    // Registered before with another file: while nothing is verified, the new file replaces it,
    // in the same transaction as the new upload record (a start that loses a race changes nothing).
    let replacing: {
      from: Artifact;
      facts: { checksum: string; size_bytes: number; format: string | null };
    } | null = null;
    try {
      await this.deps.artifacts.register(buildId, stateCode, registration, actor);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'artifact_exists') throw error;
      const existing = await this.deps.records.get(buildId, stateCode, name);
      if (!existing?.managed || existing.verified) throw error;
      const facts = {
        checksum: input.checksum,
        size_bytes: input.size_bytes,
        format: input.format ?? existing.format,
      };
      if (
        existing.checksum !== facts.checksum ||
        existing.size_bytes !== facts.size_bytes ||
        existing.format !== facts.format
      )
        replacing = { from: existing, facts };
    }
    const stored = (await this.deps.records.get(buildId, stateCode, name))!;
    const artifact = replacing ? { ...stored, ...replacing.facts } : stored;
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
      return { body: await this.view(current, true) };
    if (
      current?.status === 'completing' &&
      current.checksum === input.checksum &&
      current.size_bytes === input.size_bytes &&
      current.crc32 === input.crc32
    )
      return { body: await this.view(current, true) };
    if (current?.status === 'completing')
      throw new AppError(
        'conflict',
        `Upload '${current.upload_id}' of '${name}' is completing; wait for it before sending another file`,
        { upload_id: current.upload_id, status: current.status },
      );
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
    const written = replacing
      ? await this.deps.uploads.putWith(
          upload,
          current?.upload_id ?? null,
          this.deps.records.replaceUnverifiedItem(replacing.from, replacing.facts),
        )
      : await this.deps.uploads.put(upload, current?.upload_id ?? null);
    if (!written) {
      await this.abortInStore(upload);
      throw new AppError('conflict', `Another upload of '${name}' started at the same time; retry`, {
        build_id: buildId,
        state_code: stateCode,
        name,
      });
    }
    // The replaced upload's parts are freed only once the new record stands: a start that loses
    // its race leaves the standing upload whole.
    if (current?.status === 'open') await this.abortInStore(current);
    return created(await this.view(upload, false));
  }

  /** Presigned part URLs, each binding its part's length and CRC32. */
  async presignParts(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    input: PresignPartsInput,
  ): Promise<Result> {
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
    return { body: { upload_id: u.upload_id, urls } };
  }

  /** Records parts S3 accepted (their ETags), so a re-run skips them. */
  async confirmParts(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    input: ConfirmPartsInput,
  ): Promise<Result> {
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
    return { body: await this.view(u, false) };
  }

  /**
   * Starts the completion (docs/ARTIFACTS.md "Completion"): every part must have been confirmed;
   * the upload becomes `completing` under a new job and the answer is 202 with the upload record.
   * The job itself (`finish`) runs in an invocation of its own, started by that very write (the
   * table stream). Asked again: 202 with the same record while the job holds its lease (no second
   * job), a restarted job once the lease ended (its worker was lost), 200 with the artifact once
   * verified, 409 with the reason once failed.
   */
  async complete(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    actor: Principal,
  ): Promise<Result> {
    const u = await this.current(buildId, stateCode, name, uploadId);
    if (u.status === 'open') {
      const parts = await this.deps.uploads.parts(u);
      const have = new Set(parts.map((p) => p.part_number));
      const missing: number[] = [];
      for (let n = 1; n <= u.part_count && missing.length < 20; n++) if (!have.has(n)) missing.push(n);
      if (missing.length)
        throw new AppError('conflict', `Upload of '${name}' is missing parts; send and confirm them first`, {
          upload_id: uploadId,
          missing_parts: missing,
        });
    }
    return this.progress(u, actor);
  }

  /**
   * The upload record (`open|completing|verified|failed|aborted`), to poll a completion. A
   * `completing` upload whose job's lease ended is restarted, as a completion asked again would.
   */
  async status(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    actor: Principal,
  ): Promise<Result> {
    const u = await this.current(buildId, stateCode, name, uploadId);
    if (u.status === 'completing') return { body: (await this.progress(u, actor)).body };
    return { body: await this.view(u, false) };
  }

  /** Where a completion stands, starting or restarting its job when it is due. */
  private async progress(u: Upload, actor: Principal): Promise<Result> {
    for (let round = 0; round < 3; round++) {
      if (u.status === 'verified' || u.status === 'completed')
        return this.deps.artifacts.get(u.build_id, u.state_code, u.name, actor);
      if (u.status === 'failed')
        throw new AppError(
          u.reason?.code === 'checksum_mismatch' ? 'checksum_mismatch' : 'conflict',
          `Upload '${u.upload_id}' of '${u.name}' failed: ${u.reason?.message ?? 'no reason recorded'}; upload the file again`,
          { upload_id: u.upload_id, status: u.status, reason: u.reason ?? null },
        );
      if (u.status === 'aborted') throw notOpen(u);
      const now = this.clock();
      const due =
        u.status === 'open' || !u.job || !u.lease_until || Date.parse(u.lease_until) < now.getTime();
      if (!due) return this.accepted(u);
      const job = randomUUID();
      const leaseUntil = new Date(now.getTime() + this.leaseMs).toISOString();
      if (await this.deps.uploads.claim(u, job, leaseUntil, actor.id, now.toISOString()))
        return this.accepted({
          ...u,
          status: 'completing',
          job,
          lease_until: leaseUntil,
          completing_by: actor.id,
          updated_at: now.toISOString(),
        });
      // Another caller started (or the job finished) in between: answer what it did.
      u = await this.current(u.build_id, u.state_code, u.name, u.upload_id);
    }
    return this.accepted(u);
  }

  private async accepted(u: Upload): Promise<Result> {
    return { outcome: 'accepted', body: await this.view(u, false) };
  }

  /**
   * The completion job (the worker's invocation): assembles the parts in S3 with the whole file's
   * CRC32 (S3 checks the assembly), verifies the artifact, and moves the upload to `verified`, or
   * `failed` with the reason. Only the job that holds the upload does anything: a stale or repeated
   * trigger returns 'skipped'. Safe to run again: an upload S3 completed already (NoSuchUpload)
   * is checked as the object it became. An outage is thrown, leaving the upload `completing` for a
   * retry of the trigger or a restart after the lease.
   */
  async finish(
    buildId: string,
    stateCode: number,
    name: string,
    uploadId: string,
    job: string,
    /** Filled with how long S3's assembly and the verification took (for the worker's log). */
    timings: { assemble_ms?: number; verify_ms?: number } = {},
  ): Promise<'verified' | 'failed' | 'skipped'> {
    const u = await this.deps.uploads.get(buildId, stateCode, name);
    if (!u || u.upload_id !== uploadId || u.status !== 'completing' || u.job !== job) return 'skipped';
    // Take the lease at once (a worker that starts late may find it lapsed, and a poll may have
    // restarted the job since the read above): only a job still holding the upload works.
    const renew = () =>
      this.deps.uploads.renew(u, new Date(this.clock().getTime() + this.leaseMs).toISOString());
    if (!(await renew())) return 'skipped';
    // The job's heartbeat: its lease is extended while it works, so only a lost worker's lapses.
    const heartbeat = setInterval(
      () => {
        renew().catch(() => undefined);
      },
      Math.max(200, Math.floor(this.leaseMs / 3)),
    );
    try {
      return await this.work(u, timings);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async work(
    u: Upload,
    timings: { assemble_ms?: number; verify_ms?: number },
  ): Promise<'verified' | 'failed' | 'skipped'> {
    const { build_id: buildId, state_code: stateCode, name } = u;
    // A job whose upload another job took over (after a lapsed lease) records nothing.
    const fail = async (reason: { code: string; message: string }) =>
      (await this.deps.uploads.transition(u, 'completing', 'failed', this.clock().toISOString(), { reason }))
        ? ('failed' as const)
        : ('skipped' as const);
    const parts = await this.deps.uploads.parts(u);
    let started = performance.now();
    try {
      await this.deps.store.completeCrcMultipartUpload(
        u.object_key,
        u.upload_id,
        parts.map((p) => ({ partNumber: p.part_number, etag: p.etag, crc32: p.crc32 })),
        u.crc32,
      );
    } catch (error) {
      const code = (error as Error).name;
      if (REFUSED_ASSEMBLY.has(code))
        return fail({
          code: 'checksum_mismatch',
          message: `S3 refused to assemble the parts (${code}): ${(error as Error).message}`,
        });
      // Completed by an earlier run of this job whose end was lost: the object is there (verify checks).
      if (code !== 'NoSuchUpload') throw error;
    }
    timings.assemble_ms = Math.round(performance.now() - started);
    started = performance.now();
    const actor: Principal = {
      id: u.completing_by ?? u.created_by,
      type: 'system',
      name: 'upload completion',
      scopes: [],
    };
    try {
      // Verified already by an earlier run of this job whose end was lost: the bytes it checked
      // are this upload's. Checking again could only find them changed since, which the artifacts
      // function records when it hands them out; the worker is composed without the build rules
      // that record it (lib/compose/upload-completion.ts).
      const current = await this.deps.records.get(buildId, stateCode, name);
      if (current?.verified && current.checksum !== u.checksum)
        return await fail({
          code: 'conflict',
          message: `Artifact '${name}' was verified meanwhile with another file (${current.checksum})`,
        });
      if (!current?.verified) await this.deps.artifacts.verify(buildId, stateCode, name, {}, actor);
    } catch (error) {
      if (error instanceof AppError && error.status < 500)
        return fail({ code: error.code, message: error.message });
      throw error;
    } finally {
      timings.verify_ms = Math.round(performance.now() - started);
    }
    return (await this.deps.uploads.transition(u, 'completing', 'verified', this.clock().toISOString()))
      ? 'verified'
      : 'skipped';
  }

  /** Aborts an open upload (its parts are freed in S3; locally they stay until the data is deleted). */
  async abort(buildId: string, stateCode: number, name: string, uploadId: string): Promise<Result> {
    const u = await this.open(buildId, stateCode, name, uploadId);
    const storeAborted = await this.abortInStore(u);
    await this.deps.uploads.close(u, 'aborted', this.clock().toISOString());
    return {
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
    if (!u)
      throw new AppError('not_found', `No upload '${uploadId}' of artifact '${name}' (state ${stateCode})`, {
        build_id: buildId,
        state_code: stateCode,
        name,
        upload_id: uploadId,
      });
    // The artifact has one upload at a time: another run that started one (another file, or
    // after this one was aborted) replaced this one, which will never be completed.
    if (u.upload_id !== uploadId)
      throw new AppError(
        'conflict',
        `Upload '${uploadId}' is not the current upload of '${name}' (state ${stateCode}): upload '${u.upload_id}', started ${u.created_at}, replaced it; nothing of '${uploadId}' will be completed`,
        {
          build_id: buildId,
          state_code: stateCode,
          name,
          upload_id: uploadId,
          current_upload_id: u.upload_id,
          current_status: u.status,
        },
      );
    return u;
  }

  private async view(u: Upload, resumed: boolean) {
    // Completing too: a re-run of the same upload then has no part left to send and waits.
    const parts = u.status === 'open' || u.status === 'completing' ? await this.deps.uploads.parts(u) : [];
    return {
      build_id: u.build_id,
      state_code: u.state_code,
      name: u.name,
      upload_id: u.upload_id,
      status: u.status === 'completed' ? 'verified' : u.status,
      size_bytes: u.size_bytes,
      checksum: u.checksum,
      crc32: u.crc32,
      part_size: u.part_size,
      part_count: u.part_count,
      confirmed_parts: parts.map((p) => p.part_number),
      resumed,
      ...(u.status === 'completing' && u.lease_until ? { lease_until: u.lease_until } : {}),
      ...(u.reason ? { reason: u.reason } : {}),
      created_at: u.created_at,
      updated_at: u.updated_at,
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

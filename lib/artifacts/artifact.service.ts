/**
 * Artifact use cases. Order of writes: S3 first, then the conditional DynamoDB write, so no record
 * ever points at an object that was never written; a failure in between leaves at worst an orphan
 * pointer object, which `npm run sweep:artifacts` removes (docs/ARTIFACTS.md).
 */
import { type Principal, SYSTEM_PRINCIPAL } from '../auth/principal';
import type { Build } from '../builds/build.model';
import type { BuildRepository } from '../builds/build.repository';
import type { BuildService } from '../builds/build.service';
import type { CatalogSource, StateCatalog } from '../catalog/state-catalog';
import { AppError, notFound } from '../errors';
import { created, type Result } from '../outcome';
import type { MutationOptions, Outcome } from '../use-case';
import { objectKey } from './artifact.keys';
import type { Artifact } from './artifact.model';
import type { ArtifactRepository } from './artifact.repository';
import type {
  RegisterArtifactInput,
  ReportArtifactInput,
  StateReportWithArtifactsInput,
  VerifyArtifactInput,
} from './artifact.schema';
import type { ObjectStore, PresignedDownload, PresignedUpload } from './object-store';

/**
 * What a state report needs of the object store: pointer objects only (the states function's
 * composition, lib/compose/artifact-reports.ts, says so); the artifacts routes need the whole
 * store (uploads, verification, presigned URLs), and their methods say so in their `this` type.
 */
export type PointerStore = Pick<ObjectStore, 'bucket' | 'uriOf' | 'putPointer'>;

export interface ArtifactServiceDeps<Store extends PointerStore = ObjectStore> {
  builds: BuildRepository;
  /** State reports that carry artifacts go through the build rules (POST /builds/{id}/states). */
  reports?: BuildService;
  artifacts: ArtifactRepository;
  store: Store;
  catalogs: CatalogSource;
  clock?: () => Date;
}

/** Names of artifact records' parts in a build change's transaction (`artifact:<n>`). */
const ARTIFACT_PART = 'artifact:';
interface Links {
  upload?: PresignedUpload;
  download?: PresignedDownload;
}

/** Registration fields that make two registrations "the same". */
const IDENTITY_FIELDS = ['storage_type', 'uri', 'size_bytes', 'checksum', 'format', 'metadata'] as const;

export class ArtifactService<Store extends PointerStore = ObjectStore> {
  private readonly clock: () => Date;

  constructor(private readonly deps: ArtifactServiceDeps<Store>) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async register(
    this: ArtifactService,
    buildId: string,
    stateCode: number,
    input: RegisterArtifactInput,
    actor: Principal,
  ): Promise<Result> {
    const build = await this.loadBuild(buildId);
    if (build.status === 'cancelled') {
      throw new AppError('build_cancelled', `Build '${buildId}' was cancelled; it accepts no artifacts`, {
        build_id: buildId,
      });
    }
    if (stateCode > build.current_state) {
      throw new AppError(
        'state_not_reached',
        `State ${stateCode} is ahead of the build's current state ${build.current_state}; report the state before its artifacts`,
        { build_id: buildId, state_code: stateCode, current_state: build.current_state },
      );
    }
    const artifact = this.record(buildId, stateCode, input, actor);
    const managed = artifact.managed;
    const key = artifact.object_key;

    const catalog = await this.deps.catalogs.forProject(build.project_id);
    const existing = await this.deps.artifacts.get(buildId, stateCode, input.name);
    if (existing) return this.sameOrConflict(existing, artifact, catalog);

    // S3 first: the pointer object exists before any record can point at it.
    if (!managed) await this.deps.store.putPointer(key, objectMetadata(artifact));
    if (!(await this.deps.artifacts.create(artifact))) {
      const winner = (await this.deps.artifacts.get(buildId, stateCode, input.name))!;
      // Lost a race to another registration: put the winner's description back on the pointer.
      if (!managed && !same(winner, artifact)) await this.deps.store.putPointer(key, objectMetadata(winner));
      return this.sameOrConflict(winner, artifact, catalog);
    }
    return created(this.view(artifact, await this.links(artifact, { upload: managed }), catalog));
  }

  /**
   * A state report with the artifacts it produced (external pointers), all or nothing: every
   * artifact is checked before anything is written, their pointer objects are written once the
   * report passed the rules, and their records join the report's own transaction. One already
   * registered with the same values is kept (a retried report); with other values → 409
   * artifact_exists and nothing changes.
   */
  async report(
    buildId: string,
    input: StateReportWithArtifactsInput,
    actor: Principal,
    opts: MutationOptions = {},
  ): Promise<Outcome> {
    const { artifacts: requested = [], ...report } = input;
    const reports = this.deps.reports;
    if (!reports) throw new Error('ArtifactService was built without the build service (deps.reports)');
    const records = requested.map((a) => this.record(buildId, report.state_code, a, actor));
    const existing = await Promise.all(
      records.map((r) => this.deps.artifacts.get(buildId, r.state_code, r.name)),
    );
    existing.forEach((found, n) => {
      if (found && !same(found, records[n]!)) throw artifactExists(found, records[n]!);
    });
    const fresh = records.filter((_, n) => !existing[n]);
    let pointersWritten = false;
    return reports.report(buildId, report, actor, opts, {
      prepare: async (_change, _before, catalog) => {
        // S3 first: the pointer objects exist before any record can point at them.
        if (!pointersWritten) {
          await Promise.all(fresh.map((r) => this.deps.store.putPointer(r.object_key, objectMetadata(r))));
          pointersWritten = true;
        }
        const views = records.map((r, n) => this.view(existing[n] ?? r, {}, catalog));
        const parts = Object.fromEntries(
          fresh.map((r, n) => [`${ARTIFACT_PART}${n}`, this.deps.artifacts.createItem(r)]),
        );
        return { parts, body: { artifacts: views } };
      },
      refused: async (part) => {
        if (!part.startsWith(ARTIFACT_PART)) return undefined;
        // Another registration of this name won a race: put its description back on the pointer.
        const lost = fresh[Number(part.slice(ARTIFACT_PART.length))]!;
        const winner = await this.deps.artifacts.get(buildId, lost.state_code, lost.name);
        if (winner && !same(winner, lost))
          await this.deps.store.putPointer(lost.object_key, objectMetadata(winner));
        return winner
          ? artifactExists(winner, lost)
          : new AppError(
              'conflict',
              `Artifact '${lost.name}' changed while the report was written; retry`,
              key(lost),
            );
      },
    });
  }

  async verify(
    this: ArtifactService,
    buildId: string,
    stateCode: number,
    name: string,
    observed: VerifyArtifactInput,
    actor: Principal = SYSTEM_PRINCIPAL,
  ): Promise<Result> {
    const { artifact, catalog } = await this.load(buildId, stateCode, name);
    let found: Awaited<ReturnType<ArtifactService['examine']>>;
    try {
      found = await this.examine(artifact, observed);
    } catch (error) {
      // A verified artifact that fails verification again no longer counts as verified.
      if (artifact.verified && error instanceof AppError && REVERIFY_FAILURES.has(error.code))
        await this.invalidate(artifact, error.message, { check: 'verify', ...error.details }, actor);
      throw error;
    }
    const verified = await this.deps.artifacts.markVerified(artifact, {
      ...found,
      verified_at: this.clock().toISOString(),
    });
    return {
      body: this.view(verified, await this.links(verified, { download: true }), catalog),
    };
  }

  /** The artifact's actual checksum and size (and, managed, the ETag of the bytes hashed); 409s when they disagree. */
  private async examine(this: ArtifactService, artifact: Artifact, observed: VerifyArtifactInput) {
    const name = artifact.name;
    const facts = await this.deps.store.head(artifact.object_key);
    if (!facts) {
      throw artifact.managed
        ? new AppError(
            'artifact_not_uploaded',
            `Artifact '${name}' has not been uploaded yet; PUT it to the upload URL first`,
            key(artifact),
          )
        : new AppError(
            'artifact_missing',
            `The pointer object of artifact '${name}' is missing from the bucket`,
            key(artifact),
          );
    }

    let actualChecksum: string | null;
    let actualSize: number | null;
    let etag: string | null = null;
    let versionId: string | null = null;
    if (artifact.managed) {
      // S3's own full-object checksum when it kept one, else read the object and hash it. Either
      // way the ETag pinned is that of the very bytes checked.
      // A multipart upload (cli/upload.ts) has no S3 SHA-256 of the whole object, but S3 checked its
      // full-object CRC32 at completion against the value the client computed in the same read
      // pass as the SHA-256 it declared; both are in the object's metadata since the upload began.
      const crcBound =
        !facts.sha256 &&
        facts.crc32 &&
        facts.metadata.crc32 === facts.crc32 &&
        facts.metadata.sha256 &&
        artifact.checksum === `sha256:${facts.metadata.sha256}`;
      const hashed = facts.sha256
        ? { sha256: facts.sha256, size: facts.size, etag: facts.etag, versionId: facts.versionId }
        : crcBound
          ? { sha256: facts.metadata.sha256!, size: facts.size, etag: facts.etag, versionId: facts.versionId }
          : await this.deps.store.sha256(artifact.object_key);
      actualChecksum = `sha256:${hashed.sha256}`;
      actualSize = hashed.size;
      etag = hashed.etag;
      versionId = hashed.versionId;
    } else {
      // The bytes live elsewhere: the pointer must still describe what was registered, and a
      // worker that fetched the artifact may send what it observed.
      const pointer = facts.metadata.sha256 ? `sha256:${facts.metadata.sha256}` : null;
      mismatch('pointer checksum', artifact.checksum, pointer, artifact);
      // BuildState cannot read these bytes: verified means a worker read them and sent what it
      // computed (bldst artifact verify --file). A registered checksum alone checks nothing.
      if (!observed.checksum || observed.size_bytes === undefined) {
        throw new AppError(
          'checksum_required',
          `Artifact '${name}' is stored outside BuildState (${artifact.uri}), which the service cannot read; send the checksum and size you computed from the file: {"checksum": "sha256:…", "size_bytes": N} (bldst artifact verify --file PATH)`,
          key(artifact),
        );
      }
      actualChecksum = observed.checksum;
      actualSize = observed.size_bytes;
    }
    mismatch('checksum', artifact.checksum, actualChecksum, artifact);
    mismatch('checksum', observed.checksum ?? null, actualChecksum, artifact);
    mismatch('size_bytes', artifact.size_bytes, actualSize, artifact);
    mismatch('size_bytes', observed.size_bytes ?? null, actualSize, artifact);
    return { checksum: actualChecksum!, size_bytes: actualSize ?? 0, etag, versionId };
  }

  /**
   * Before a verified managed artifact is handed out: are the verified bytes still there? In a
   * versioned bucket (AWS) the download URL names the verified version, so it only has to exist;
   * an overwrite makes a new version the URL never serves. Without versions (the local S3 server)
   * the object must still carry the verified ETag; if not, it was overwritten with the still
   * valid upload URL. Either way a failed check makes the artifact unverified again, recorded in
   * the build's history, and it is not handed out. Records verified before ETags were pinned are
   * taken as they are.
   */
  private async stillVerified(this: ArtifactService, a: Artifact, actor: Principal): Promise<boolean> {
    if (!a.verified) return false;
    if (!a.managed || !a.verified_etag) return true;
    const facts = await this.deps.store.head(a.object_key, a.verified_version_id ?? null);
    if (facts && facts.etag === a.verified_etag) return true;
    const reason = facts
      ? 'its object was written again after verification (the ETag changed); verify it again'
      : 'its object is gone from the bucket';
    await this.invalidate(
      a,
      reason,
      { check: 'download', expected_etag: a.verified_etag, actual_etag: facts?.etag ?? null },
      actor,
    );
    return false;
  }

  /** Marks a verified artifact unverified, with a history entry on its build, in one transaction. */
  private async invalidate(
    this: ArtifactService,
    a: Artifact,
    reason: string,
    details: Record<string, unknown>,
    actor: Principal,
  ): Promise<void> {
    if (!this.deps.reports)
      throw new Error('ArtifactService was built without the build service (deps.reports)');
    try {
      await this.deps.reports.artifactUnverified(
        a.build_id,
        { state_code: a.state_code, name: a.name, reason, details },
        actor,
        {
          prepare: async () => ({ parts: { [`${ARTIFACT_PART}0`]: this.deps.artifacts.unverifyItem(a) } }),
          refused: async (part) => (part.startsWith(ARTIFACT_PART) ? ALREADY_CHANGED : undefined),
        },
      );
    } catch (error) {
      // Someone else unverified (or verified) it in the meantime: their record stands.
      if (error !== ALREADY_CHANGED) throw error;
    }
  }

  async get(
    this: ArtifactService,
    buildId: string,
    stateCode: number,
    name: string,
    actor: Principal = SYSTEM_PRINCIPAL,
  ): Promise<Result> {
    const loaded = await this.load(buildId, stateCode, name);
    let artifact = loaded.artifact;
    if (artifact.verified && !(await this.stillVerified(artifact, actor)))
      artifact = (await this.deps.artifacts.get(buildId, stateCode, name)) ?? artifact;
    return {
      body: this.view(artifact, await this.links(artifact, { download: true }), loaded.catalog),
    };
  }

  async list(buildId: string): Promise<Result> {
    const build = await this.loadBuild(buildId);
    const catalog = await this.deps.catalogs.forProject(build.project_id);
    const states = new Map<number, unknown[]>();
    for (const a of await this.deps.artifacts.listForBuild(buildId)) {
      const group = states.get(a.state_code) ?? [];
      group.push(this.view(a, {}, catalog));
      states.set(a.state_code, group);
    }
    return {
      body: {
        build_id: buildId,
        states: [...states].map(([code, artifacts]) => ({
          state_code: code,
          state_name: catalog.nameOf(code),
          artifacts,
        })),
      },
    };
  }

  /**
   * What a worker needs to continue: the artifacts of the latest completed state that has any —
   * verified ones, and external pointers not verified yet (their view says `verified: false`; the
   * worker that reads them checks the registered checksum). A managed upload that was never
   * verified is not offered: its bytes may not be there.
   */
  async inputArtifacts(
    this: ArtifactService,
    build: Build,
    actor: Principal = SYSTEM_PRINCIPAL,
  ): Promise<unknown[]> {
    const completed = new Set(build.completed_states ?? []);
    const usableOf = async (buildId: string, upTo = Number.POSITIVE_INFINITY) => {
      const candidates = (await this.deps.artifacts.listForBuild(buildId)).filter(
        (a) => (a.verified || !a.managed) && completed.has(a.state_code) && a.state_code <= upTo,
      );
      // Only what is still exactly what was verified is handed out (ETag checked, one HEAD each).
      const still = await Promise.all(
        candidates.map((a) => (a.verified ? this.stillVerified(a, actor) : Promise.resolve(true))),
      );
      return candidates.filter((_, n) => still[n]);
    };
    let usable = await usableOf(build.id);
    // A fork's child is offered its parent's verified artifacts (up to the fork) until it has its
    // own: by reference, the parent's records and objects, nothing copied.
    if (usable.length === 0 && build.parent_id)
      usable = await usableOf(build.parent_id, build.forked_at_state ?? -1);
    const latest = Math.max(-1, ...usable.map((a) => a.state_code));
    const catalog = await this.deps.catalogs.forProject(build.project_id);
    return Promise.all(
      usable
        .filter((a) => a.state_code === latest)
        .map(async (a) => this.view(a, await this.links(a, { download: true }), catalog)),
    );
  }

  /** The record a registration describes, not yet written. */
  private record(
    buildId: string,
    stateCode: number,
    input: RegisterArtifactInput | ReportArtifactInput,
    actor: Principal,
  ): Artifact {
    const key = objectKey(buildId, stateCode, input.name);
    return {
      build_id: buildId,
      state_code: stateCode,
      name: input.name,
      storage_type: input.storage_type,
      managed: input.storage_type === 's3' && input.uri === undefined,
      uri: input.uri ?? this.deps.store.uriOf(key),
      object_key: key,
      size_bytes: input.size_bytes ?? null,
      checksum: input.checksum ?? null,
      format: input.format ?? null,
      metadata: input.metadata ?? {},
      verified: false,
      verified_at: null,
      created_by: actor.id,
      created_at: this.clock().toISOString(),
    };
  }

  private async sameOrConflict(
    this: ArtifactService,
    existing: Artifact,
    requested: Artifact,
    catalog: StateCatalog,
  ): Promise<Result> {
    if (!same(existing, requested)) throw artifactExists(existing, requested);
    // Same registration again: idempotent. An unverified managed artifact gets a fresh upload URL.
    return {
      outcome: 'unchanged',
      body: this.view(
        existing,
        await this.links(existing, { upload: existing.managed && !existing.verified }),
        catalog,
      ),
    };
  }

  /** The presigned URLs a view carries: an upload, or a managed artifact's download. */
  private async links(
    this: ArtifactService,
    a: Artifact,
    extra: { upload?: boolean; download?: boolean },
  ): Promise<Links> {
    const links: Links = {};
    if (extra.upload)
      links.upload = await this.deps.store.presignPut(
        a.object_key,
        objectMetadata(a),
        hex(a.checksum),
        a.size_bytes,
      );
    if (extra.download && a.managed)
      links.download = await this.deps.store.presignGet(
        a.object_key,
        a.verified ? (a.verified_version_id ?? null) : null,
      );
    return links;
  }

  private view(a: Artifact, { upload, download }: Links, catalog: StateCatalog) {
    return {
      build_id: a.build_id,
      state_code: a.state_code,
      state_name: catalog.nameOf(a.state_code),
      name: a.name,
      storage_type: a.storage_type,
      managed: a.managed,
      uri: a.uri,
      bucket: this.deps.store.bucket,
      object_key: a.object_key,
      size_bytes: a.size_bytes,
      checksum: a.checksum,
      format: a.format,
      metadata: a.metadata,
      verified: a.verified,
      verified_at: a.verified_at,
      created_by: a.created_by,
      created_at: a.created_at,
      ...(upload ? { upload } : {}),
      ...(download ? { download } : {}),
    };
  }

  private async loadBuild(id: string): Promise<Build> {
    const build = await this.deps.builds.get(id);
    if (!build) throw notFound('build', id);
    return build;
  }

  private async load(
    buildId: string,
    stateCode: number,
    name: string,
  ): Promise<{ artifact: Artifact; catalog: StateCatalog }> {
    const build = await this.loadBuild(buildId);
    const artifact = await this.deps.artifacts.get(buildId, stateCode, name);
    if (!artifact) {
      throw new AppError('not_found', `Build '${buildId}' has no artifact '${name}' at state ${stateCode}`, {
        build_id: buildId,
        state_code: stateCode,
        name,
      });
    }
    return { artifact, catalog: await this.deps.catalogs.forProject(build.project_id) };
  }
}

/** The self-describing metadata of an artifact's S3 object (ASCII only, as S3 requires). */
export function objectMetadata(a: Artifact): Record<string, string> {
  const meta: Record<string, string> = {
    uri: encodeURI(decodeURISafe(a.uri)),
    storage_type: a.storage_type,
    build_id: a.build_id,
    state_code: String(a.state_code),
    name: a.name,
  };
  if (a.checksum) meta.sha256 = hex(a.checksum)!;
  if (a.size_bytes !== null) meta.size_bytes = String(a.size_bytes);
  if (a.format) meta.format = a.format;
  return meta;
}

function decodeURISafe(uri: string): string {
  try {
    return decodeURI(uri);
  } catch {
    return uri;
  }
}

const hex = (checksum: string | null) => (checksum ? checksum.slice('sha256:'.length) : null);

/** JSON with object keys sorted: DynamoDB returns map attributes in an order of its own. */
const canonical = (v: unknown): string =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? `{${Object.keys(v)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
        .join(',')}}`
    : Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : JSON.stringify(v);

const same = (a: Artifact, b: Artifact) => IDENTITY_FIELDS.every((f) => canonical(a[f]) === canonical(b[f]));

const key = (a: Artifact) => ({ build_id: a.build_id, state_code: a.state_code, name: a.name });

/** Failures of a re-verification that make a verified artifact unverified again. */
const REVERIFY_FAILURES = new Set(['checksum_mismatch', 'artifact_not_uploaded', 'artifact_missing']);
/** The artifact's own update lost to a concurrent change of it (see invalidate). */
const ALREADY_CHANGED = new AppError('conflict', 'The artifact changed meanwhile', {});

const artifactExists = (existing: Artifact, requested: Artifact) =>
  new AppError(
    'artifact_exists',
    `Artifact '${requested.name}' of state ${requested.state_code} is already registered with different values`,
    {
      ...key(existing),
      existing: Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, existing[f]])),
      requested: Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, requested[f]])),
    },
  );

/** 409 checksum_mismatch when both values are known and differ. */
function mismatch(
  field: string,
  expected: string | number | null,
  actual: string | number | null,
  a: Artifact,
): void {
  if (expected === null || actual === null || expected === actual) return;
  throw new AppError(
    'checksum_mismatch',
    `Artifact '${a.name}' failed verification: ${field} is ${actual}, expected ${expected}`,
    {
      ...key(a),
      field,
      expected,
      actual,
    },
  );
}

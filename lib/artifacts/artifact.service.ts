/**
 * Artifact use cases. Order of writes: S3 first, then the conditional DynamoDB write, so no record
 * ever points at an object that was never written; a failure in between leaves at worst an orphan
 * pointer object, which `npm run sweep:artifacts` removes (docs/ARTIFACTS.md).
 */
import type { Principal } from '../auth/principal';
import type { Build } from '../builds/build.model';
import type { BuildRepository } from '../builds/build.repository';
import type { CatalogSource } from '../builds/build.service';
import type { StateCatalog } from '../catalog/state-catalog';
import { AppError, notFound } from '../errors';
import { objectKey } from './artifact.keys';
import type { Artifact } from './artifact.model';
import type { ArtifactRepository } from './artifact.repository';
import type { RegisterArtifactInput, VerifyArtifactInput } from './artifact.schema';
import type { ArtifactStore, PresignedDownload, PresignedUpload } from './artifact.store';

export interface ArtifactServiceDeps {
  builds: BuildRepository;
  artifacts: ArtifactRepository;
  store: ArtifactStore;
  catalogs: CatalogSource;
  clock?: () => Date;
}

export interface ArtifactOutcome {
  status: number;
  body: unknown;
}

/** Registration fields that make two registrations "the same". */
const IDENTITY_FIELDS = ['storage_type', 'uri', 'size_bytes', 'checksum', 'format', 'metadata'] as const;

export class ArtifactService {
  private readonly clock: () => Date;

  constructor(private readonly deps: ArtifactServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async register(
    buildId: string,
    stateCode: number,
    input: RegisterArtifactInput,
    actor: Principal,
  ): Promise<ArtifactOutcome> {
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
    const key = objectKey(buildId, stateCode, input.name);
    const managed = input.storage_type === 's3' && input.uri === undefined;
    const artifact: Artifact = {
      build_id: buildId,
      state_code: stateCode,
      name: input.name,
      storage_type: input.storage_type,
      managed,
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
    return { status: 201, body: await this.view(artifact, { upload: managed }, catalog) };
  }

  async verify(
    buildId: string,
    stateCode: number,
    name: string,
    observed: VerifyArtifactInput,
  ): Promise<ArtifactOutcome> {
    const { artifact, catalog } = await this.load(buildId, stateCode, name);
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
    if (artifact.managed) {
      // S3's own full-object checksum when it kept one, else read the object and hash it.
      const hashed = facts.sha256
        ? { sha256: facts.sha256, size: facts.size }
        : await this.deps.store.sha256(artifact.object_key);
      actualChecksum = `sha256:${hashed.sha256}`;
      actualSize = hashed.size;
    } else {
      // The bytes live elsewhere: the pointer must still describe what was registered, and a
      // worker that fetched the artifact may send what it observed.
      const pointer = facts.metadata.sha256 ? `sha256:${facts.metadata.sha256}` : null;
      mismatch('pointer checksum', artifact.checksum, pointer, artifact);
      if (!artifact.checksum && !observed.checksum) {
        throw new AppError(
          'checksum_required',
          `Artifact '${name}' is stored outside BuildState and was registered without a checksum; send the checksum you observed: {"checksum": "sha256:…"}`,
          key(artifact),
        );
      }
      actualChecksum = observed.checksum ?? artifact.checksum;
      actualSize = observed.size_bytes ?? artifact.size_bytes;
    }
    mismatch('checksum', artifact.checksum, actualChecksum, artifact);
    mismatch('checksum', observed.checksum ?? null, actualChecksum, artifact);
    mismatch('size_bytes', artifact.size_bytes, actualSize, artifact);
    mismatch('size_bytes', observed.size_bytes ?? null, actualSize, artifact);

    const verified = await this.deps.artifacts.markVerified(artifact, {
      checksum: actualChecksum!,
      size_bytes: actualSize ?? 0,
      verified_at: this.clock().toISOString(),
    });
    return { status: 200, body: await this.view(verified, { download: true }, catalog) };
  }

  async get(buildId: string, stateCode: number, name: string): Promise<ArtifactOutcome> {
    const { artifact, catalog } = await this.load(buildId, stateCode, name);
    return { status: 200, body: await this.view(artifact, { download: true }, catalog) };
  }

  async list(buildId: string): Promise<ArtifactOutcome> {
    const build = await this.loadBuild(buildId);
    const catalog = await this.deps.catalogs.forProject(build.project_id);
    const states = new Map<number, unknown[]>();
    for (const a of await this.deps.artifacts.listForBuild(buildId)) {
      const group = states.get(a.state_code) ?? [];
      group.push(await this.view(a, {}, catalog));
      states.set(a.state_code, group);
    }
    return {
      status: 200,
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

  /** What a worker needs to continue: the verified artifacts of the latest completed state that has any. */
  async inputArtifacts(build: Build): Promise<unknown[]> {
    const completed = new Set(build.completed_states ?? []);
    const usable = (await this.deps.artifacts.listForBuild(build.id)).filter(
      (a) => a.verified && completed.has(a.state_code),
    );
    const latest = Math.max(-1, ...usable.map((a) => a.state_code));
    const catalog = await this.deps.catalogs.forProject(build.project_id);
    return Promise.all(
      usable.filter((a) => a.state_code === latest).map((a) => this.view(a, { download: true }, catalog)),
    );
  }

  private async sameOrConflict(
    existing: Artifact,
    requested: Artifact,
    catalog: StateCatalog,
  ): Promise<ArtifactOutcome> {
    if (!same(existing, requested)) {
      throw new AppError(
        'artifact_exists',
        `Artifact '${requested.name}' of state ${requested.state_code} is already registered with different values`,
        {
          ...key(existing),
          existing: Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, existing[f]])),
          requested: Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, requested[f]])),
        },
      );
    }
    // Same registration again: idempotent. An unverified managed artifact gets a fresh upload URL.
    return {
      status: 200,
      body: await this.view(existing, { upload: existing.managed && !existing.verified }, catalog),
    };
  }

  private async view(a: Artifact, extra: { upload?: boolean; download?: boolean }, catalog: StateCatalog) {
    let upload: PresignedUpload | undefined;
    let download: PresignedDownload | undefined;
    if (extra.upload)
      upload = await this.deps.store.presignPut(
        a.object_key,
        objectMetadata(a),
        hex(a.checksum),
        a.size_bytes,
      );
    if (extra.download && a.managed) download = await this.deps.store.presignGet(a.object_key);
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

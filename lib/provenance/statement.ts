/**
 * The SLSA v1 provenance of a completed build as an in-toto Statement v1, built from what the
 * table recorded. Pure (a function of its input): the same records always give the same
 * statement. Every field is described in docs/PROVENANCE.md; the spec is
 * https://slsa.dev/spec/v1.0/provenance.
 */
import type { Artifact } from '../artifacts/artifact.model';
import type { Build, HistoryEntry } from '../builds/build.model';
import type { ImageRecord } from '../lineage/lineage.repository';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** BuildState's buildType: the meaning of externalParameters, internalParameters and byproducts. */
export const BUILD_TYPE = 'https://buildstate.dev/provenance/build/v1';
export const BUILDER_ID = 'https://buildstate.dev/service';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: typeof BUILD_TYPE;
      externalParameters: Record<string, unknown>;
      internalParameters: Record<string, unknown>;
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
      byproducts: ResourceDescriptor[];
    };
  };
}

export interface ProvenanceInput {
  build: Build;
  /** Every history entry of the build, oldest first. */
  history: readonly HistoryEntry[];
  artifacts: readonly Artifact[];
  images: readonly ImageRecord[];
  /** A fork child's parent and its artifacts (those up to forked_at_state are the child's inputs). */
  parent?: { build: Build; artifacts: readonly Artifact[] } | null;
  /** The build this one was built on (lineage's base_build_id) and its artifacts. */
  base?: { build: Build; artifacts: readonly Artifact[] } | null;
  serviceVersion: string;
}

const SHA256 = /^sha256:([0-9a-f]{64})$/;

/** The hex digest of a verified artifact with a sha256 checksum; null for anything unproven. */
export function artifactDigest(a: Artifact): string | null {
  if (!a.verified || !a.checksum) return null;
  return SHA256.exec(a.checksum.toLowerCase())?.[1] ?? null;
}

/** The digest an image carries in its metadata (`digest: "sha256:<hex>"`), if any. */
export function imageDigest(image: ImageRecord): string | null {
  const value = image.metadata?.digest;
  return typeof value === 'string' ? (SHA256.exec(value.toLowerCase())?.[1] ?? null) : null;
}

export const artifactUri = (a: Pick<Artifact, 'build_id' | 'state_code' | 'name'>) =>
  `buildstate://builds/${a.build_id}/states/${a.state_code}/${a.name}`;
export const imageName = (i: Pick<ImageRecord, 'cloud' | 'region' | 'image_id'>) =>
  `${i.cloud}:${i.region}:${i.image_id}`;

const byPosition = (a: Artifact, b: Artifact) => a.state_code - b.state_code || a.name.localeCompare(b.name);

function dependency(a: Artifact, role: string): ResourceDescriptor | null {
  const sha256 = artifactDigest(a);
  if (!sha256) return null;
  return {
    name: a.name,
    uri: artifactUri(a),
    digest: { sha256 },
    annotations: { role, build_id: a.build_id, state_code: a.state_code },
  };
}

/**
 * The artifacts a resumed attempt was handed (what GET /builds/{id}/resume offers): for each
 * failed attempt of a state, the verified artifacts of the latest completed state below it that
 * has any, in this build or, before it has its own, its fork parent's up to the fork.
 */
function resumeInputs(input: ProvenanceInput): Artifact[] {
  const own = input.artifacts.filter((a) => artifactDigest(a));
  const parents = input.parent
    ? input.parent.artifacts.filter(
        (a) => artifactDigest(a) && a.state_code <= (input.build.forked_at_state ?? -1),
      )
    : [];
  const out = new Map<string, Artifact>();
  for (const h of input.history) {
    if (h.status !== 'failed') continue;
    const below = own.filter((a) => a.state_code < h.state_code);
    const pool = below.length > 0 ? below : parents;
    const latest = Math.max(-1, ...pool.map((a) => a.state_code));
    for (const a of pool.filter((x) => x.state_code === latest)) out.set(artifactUri(a), a);
  }
  return [...out.values()].sort(byPosition);
}

export function provenanceStatement(input: ProvenanceInput): ProvenanceStatement {
  const { build } = input;
  const subject = [
    ...[...input.artifacts].sort(byPosition).flatMap((a) => {
      const sha256 = artifactDigest(a);
      return sha256 ? [{ name: `states/${a.state_code}/${a.name}`, digest: { sha256 } }] : [];
    }),
    ...input.images.flatMap((i) => {
      const sha256 = imageDigest(i);
      return sha256 ? [{ name: imageName(i), digest: { sha256 } }] : [];
    }),
  ];
  const dependencies: ResourceDescriptor[] = [];
  const seen = new Set<string>();
  const add = (a: Artifact, role: string) => {
    const d = dependency(a, role);
    if (d && !seen.has(`${role} ${d.uri}`)) {
      seen.add(`${role} ${d.uri}`);
      dependencies.push(d);
    }
  };
  if (input.parent)
    for (const a of [...input.parent.artifacts].sort(byPosition))
      if (a.state_code <= (build.forked_at_state ?? -1)) add(a, 'fork_parent');
  if (input.base) for (const a of [...input.base.artifacts].sort(byPosition)) add(a, 'base_build');
  for (const a of resumeInputs(input)) add(a, 'resume_input');

  // The workers of each state: every attempt as the history recorded it.
  const attempts = input.history
    .filter((h) => h.status !== null && h.event !== 'forked')
    .map((h) => ({
      state_code: h.state_code,
      attempt: h.attempt,
      status: h.status,
      worker_id: h.worker_id,
      ...(h.error_code ? { error_code: h.error_code } : {}),
      ...(h.duration_s !== undefined ? { duration_s: h.duration_s } : {}),
      recorded_at: h.recorded_at,
    }));
  const workers = [...new Set(attempts.map((a) => a.worker_id).filter((w): w is string => !!w))].sort();
  const imagesWithoutDigest = input.images.filter((i) => !imageDigest(i));

  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          project: build.project_id,
          platform: build.platform_id,
          image_type: build.image_type_id,
          os_version: build.os_version_id,
          build_number: build.build_number,
        },
        internalParameters: {
          ...(build.parent_id ? { parent_id: build.parent_id, forked_at_state: build.forked_at_state } : {}),
          ...(input.base ? { base_build_id: input.base.build.id } : {}),
        },
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: { id: BUILDER_ID, version: { buildstate: input.serviceVersion } },
        metadata: {
          invocationId: build.id,
          startedOn: build.started_at ?? build.created_at,
          finishedOn: build.completed_at ?? build.updated_at,
        },
        byproducts: [
          { name: 'buildstate:attempts', annotations: { workers, attempts } },
          ...(imagesWithoutDigest.length > 0
            ? [
                {
                  name: 'buildstate:images',
                  annotations: {
                    images: imagesWithoutDigest.map((i) => ({
                      name: imageName(i),
                      image_name: i.name,
                      account: i.account,
                      published_at: i.published_at,
                    })),
                  },
                },
              ]
            : []),
        ],
      },
    },
  };
}

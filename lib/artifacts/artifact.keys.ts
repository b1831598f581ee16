/** The only place that knows how artifacts are keyed, in the table and in the bucket. */
import { buildKey } from '../builds/build.keys';

const CODE_WIDTH = 3;

export const artifactKey = (buildId: string, stateCode: number, name: string) => ({
  pk: buildKey(buildId).pk,
  sk: `ART#${String(stateCode).padStart(CODE_WIDTH, '0')}#${name}`,
});
export const ARTIFACT_PREFIX = 'ART#';

export const objectKey = (buildId: string, stateCode: number, name: string) =>
  `builds/${buildId}/states/${stateCode}/${name}`;
export const OBJECT_PREFIX = 'builds/';

/** Parses an object key back into its parts, or null for keys BuildState did not make. */
export function parseObjectKey(key: string): { buildId: string; stateCode: number; name: string } | null {
  const m = /^builds\/([^/]+)\/states\/(\d{1,3})\/([^/]+)$/.exec(key);
  return m ? { buildId: m[1]!, stateCode: Number(m[2]), name: m[3]! } : null;
}

/** A build's signed provenance (DSSE envelope, docs/PROVENANCE.md), beside its states' artifacts. */
export const provenanceObjectKey = (buildId: string) => `builds/${buildId}/provenance.intoto.json`;
export const isProvenanceObjectKey = (key: string) => /^builds\/[^/]+\/provenance\.intoto\.json$/.test(key);
/** Every public key that ever signed provenance, by keyid: old envelopes stay verifiable. */
export const signingKeyObjectKey = (keyid: string) => `signing-keys/${keyid}.pem`;
/** The multipart upload of a managed artifact (one at a time per artifact) and its confirmed parts. */
export const uploadKey = (buildId: string, stateCode: number, name: string) => ({
  pk: buildKey(buildId).pk,
  sk: `UPL#${String(stateCode).padStart(CODE_WIDTH, '0')}#${name}`,
});
export const UPLOAD_PART_PREFIX = 'UPLPART#';
export const uploadPartKey = (buildId: string, uploadId: string, partNumber: number) => ({
  pk: buildKey(buildId).pk,
  sk: `${UPLOAD_PART_PREFIX}${uploadId}#${String(partNumber).padStart(5, '0')}`,
});

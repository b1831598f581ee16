/**
 * Composition for the artifacts routes (see lib/compose/store.ts): the artifact rules over the
 * whole object store as signed requests (lib/artifacts/signed-s3.ts `SignedObjectStore`: pointers,
 * verification reads, presigned transfers), not the S3 client, which only scripts use (the orphan
 * sweep). The states function composes the pointer store only (./artifact-reports.ts).
 */
import { SignedObjectStore } from '../artifacts/signed-s3';
import { composeArtifacts } from './artifact-reports';
import { once } from './store';

export const artifactService = once(() => composeArtifacts((cfg) => new SignedObjectStore(cfg)));

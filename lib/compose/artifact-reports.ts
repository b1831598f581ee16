/**
 * The artifact rules, composed for a function (see lib/compose/store.ts) over the object store
 * (lib/artifacts/artifact.store.ts, the SDK's S3 client built once per runtime). State reports that
 * name artifacts (the states function) use its pointer objects; the artifacts routes
 * (lib/compose/artifacts.ts) its presigned transfers too.
 */
import { ArtifactRepository } from '../artifacts/artifact.repository';
import { ArtifactService } from '../artifacts/artifact.service';
import { ArtifactStore } from '../artifacts/artifact.store';
import { createS3Client } from '../artifacts/s3-client';
import { type Config, ENV } from '../config/env';
import { buildRepository, builds } from './builds';
import { references } from './references';
import { db, once, runtimeConfig } from './store';

/** The one S3 client of this runtime. */
export const s3Client = once(() => createS3Client(runtimeConfig()));

/** The object store over the configured bucket. */
export function objectStore(cfg: Config = runtimeConfig()): ArtifactStore {
  if (!cfg.artifactsBucket) {
    throw new Error(`${ENV.artifactsBucket} is not set: this function was not bound to the artifacts bucket`);
  }
  return new ArtifactStore(s3Client(), cfg.artifactsBucket, cfg.presignExpirySeconds);
}

/** The artifact rules over the configured bucket. */
export function composeArtifacts(): ArtifactService {
  const cfg = runtimeConfig();
  return new ArtifactService({
    builds: buildRepository(),
    reports: builds(),
    artifacts: new ArtifactRepository(db(), cfg.tableName),
    store: objectStore(cfg),
    catalogs: references(),
  });
}

export const artifactReports = once(composeArtifacts);

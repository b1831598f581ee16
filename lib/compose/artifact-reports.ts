/**
 * State reports that name artifacts (the states function): the artifact rules over pointer objects
 * written by signed requests (lib/artifacts/signed-s3.ts), so this function does not bundle the
 * S3 client and presigner; the artifacts routes compose the whole store in lib/artifacts/runtime.ts.
 */
import { ArtifactRepository } from '../artifacts/artifact.repository';
import { ArtifactService, type PointerStore } from '../artifacts/artifact.service';
import { SignedS3 } from '../artifacts/signed-s3';
import { ENV } from '../config/env';
import { buildRepository, builds } from './builds';
import { references } from './references';
import { db, once, runtimeConfig } from './store';

export const artifactReports = once((): ArtifactService<PointerStore> => {
  const cfg = runtimeConfig();
  if (!cfg.artifactsBucket) {
    throw new Error(`${ENV.artifactsBucket} is not set: this function was not bound to the artifacts bucket`);
  }
  return new ArtifactService({
    builds: buildRepository(),
    reports: builds(),
    artifacts: new ArtifactRepository(db(), cfg.tableName),
    store: new SignedS3({ ...cfg, artifactsBucket: cfg.artifactsBucket }),
    catalogs: references(),
  });
});

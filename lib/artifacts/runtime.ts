/**
 * Composition for the artifacts routes (see lib/compose/store.ts): the artifact rules over the
 * object store's calls as signed requests (lib/artifacts/signed-s3.ts), not the S3 client, which
 * only scripts use (the orphan sweep). States composes its own (lib/compose/artifact-reports.ts).
 */
import { buildRepository, builds } from '../compose/builds';
import { references } from '../compose/references';
import { db, once } from '../compose/store';
import { config, ENV } from '../config/env';
import { ArtifactRepository } from './artifact.repository';
import { ArtifactService } from './artifact.service';
import { SignedObjectStore } from './signed-s3';

export const artifactService = once((): ArtifactService => {
  const cfg = config();
  if (!cfg.artifactsBucket) {
    throw new Error(`${ENV.artifactsBucket} is not set: this function was not bound to the artifacts bucket`);
  }
  return new ArtifactService({
    builds: buildRepository(),
    reports: builds(),
    artifacts: new ArtifactRepository(db(), cfg.tableName),
    store: new SignedObjectStore({ ...cfg, artifactsBucket: cfg.artifactsBucket }),
    catalogs: references(),
  });
});

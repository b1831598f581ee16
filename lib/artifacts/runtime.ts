/**
 * Composition for the artifacts routes (see lib/compose/store.ts), apart so that only the artifacts
 * function bundles the S3 client and presigner; states writes its pointer objects with signed
 * requests (lib/compose/artifact-reports.ts), and the others stay small.
 */
import { buildRepository, builds } from '../compose/builds';
import { references } from '../compose/references';
import { db } from '../compose/store';
import { config, ENV } from '../config/env';
import { ArtifactRepository } from './artifact.repository';
import { ArtifactService } from './artifact.service';
import { ArtifactStore } from './artifact.store';
import { createS3Client } from './s3-client';

let cached: ArtifactService | undefined;

export function artifactService(): ArtifactService {
  if (cached) return cached;
  const cfg = config();
  if (!cfg.artifactsBucket) {
    throw new Error(`${ENV.artifactsBucket} is not set: this function was not bound to the artifacts bucket`);
  }
  cached = new ArtifactService({
    builds: buildRepository(),
    reports: builds(),
    artifacts: new ArtifactRepository(db(), cfg.tableName),
    store: new ArtifactStore(createS3Client(cfg), cfg.artifactsBucket, cfg.presignExpirySeconds),
    catalogs: references(),
  });
  return cached;
}

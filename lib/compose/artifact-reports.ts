/**
 * The artifact rules, composed for a function (see lib/compose/store.ts) over the object store
 * (./object-store.ts: the SDK's S3 client, built once per runtime). State reports that
 * name artifacts (the states function) use its pointer objects; the artifacts routes
 * (lib/compose/artifacts.ts) its presigned transfers too.
 */
import { ArtifactRepository } from '../artifacts/artifact.repository';
import { ArtifactService } from '../artifacts/artifact.service';
import { buildRepository, builds } from './builds';
import { objectStore } from './object-store';
import { references } from './references';
import { db, once, runtimeConfig } from './store';

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

export const artifactReports = /* @__PURE__ */ once(composeArtifacts);

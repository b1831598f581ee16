/**
 * Composition for the multipart completion worker (functions/events/complete-uploads.ts): the
 * upload rules over artifact rules without the build rules. The worker only assembles and verifies
 * an artifact that is not verified yet (UploadService.finish); a verified artifact found unverifiable
 * later is recorded by the artifacts function, which carries the build service. Importing
 * ./build-repository rather than ./builds keeps the build service (transitions, leases, lineage,
 * costs) out of the worker's bundle.
 */
import { ArtifactRepository } from '../artifacts/artifact.repository';
import { ArtifactService } from '../artifacts/artifact.service';
import { UploadRepository } from '../artifacts/upload.repository';
import { UploadService } from '../artifacts/upload.service';
import { buildRepository } from './build-repository';
import { objectStore } from './object-store';
import { references } from './references';
import { db, once, runtimeConfig } from './store';

export const uploadCompletion = /* @__PURE__ */ once(() => {
  const cfg = runtimeConfig();
  const records = new ArtifactRepository(db(), cfg.tableName);
  const store = objectStore(cfg);
  return new UploadService({
    artifacts: new ArtifactService({
      builds: buildRepository(),
      artifacts: records,
      store,
      catalogs: references(),
    }),
    records,
    uploads: new UploadRepository(db(), cfg.tableName),
    store,
    completionLeaseMs: cfg.uploadCompletionLeaseSeconds * 1000,
  });
});

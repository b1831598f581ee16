/**
 * Composition for the multipart upload routes (see lib/compose/store.ts): the upload rules over the
 * artifact rules, the table's upload records and the object store.
 */
import { ArtifactRepository } from '../artifacts/artifact.repository';
import { UploadRepository } from '../artifacts/upload.repository';
import { UploadService } from '../artifacts/upload.service';
import { artifactService } from './artifacts';
import { objectStore } from './object-store';
import { db, once, runtimeConfig } from './store';

export const uploadService = once(() => {
  const cfg = runtimeConfig();
  return new UploadService({
    artifacts: artifactService(),
    records: new ArtifactRepository(db(), cfg.tableName),
    uploads: new UploadRepository(db(), cfg.tableName),
    store: objectStore(cfg),
    completionLeaseMs: cfg.uploadCompletionLeaseSeconds * 1000,
  });
});

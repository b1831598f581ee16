/**
 * Composition (see lib/compose/store.ts): the one S3 client of this runtime and the object store
 * over the configured bucket (lib/artifacts/artifact.store.ts). Its own module, so a function that
 * only checks the bucket (the dashboard's GET /status) does not bundle the artifact rules.
 */
import { ArtifactStore } from '../artifacts/artifact.store';
import { createS3Client } from '../artifacts/s3-client';
import { type Config, ENV } from '../config/env';
import { once, runtimeConfig } from './store';

/** The one S3 client of this runtime. */
export const s3Client = /* @__PURE__ */ once(() => createS3Client(runtimeConfig()));

/** The object store over the configured bucket. */
export function objectStore(cfg: Config = runtimeConfig()): ArtifactStore {
  if (!cfg.artifactsBucket) {
    throw new Error(`${ENV.artifactsBucket} is not set: this function was not bound to the artifacts bucket`);
  }
  return new ArtifactStore(s3Client(), cfg.artifactsBucket, cfg.presignExpirySeconds);
}

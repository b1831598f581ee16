/**
 * The artifact rules, composed for a function (see lib/compose/store.ts) over the object store it
 * needs. State reports that name artifacts (the states function) need only pointer objects, as
 * signed requests (lib/artifacts/signed-s3.ts `SignedS3`); the artifacts routes compose the whole
 * store, presigned transfers included, in lib/compose/artifacts.ts. Two modules, so the states
 * bundle does not carry the presigning code.
 */
import { ArtifactRepository } from '../artifacts/artifact.repository';
import { ArtifactService, type PointerStore } from '../artifacts/artifact.service';
import { SignedS3, type SignedS3Config } from '../artifacts/signed-s3';
import { ENV } from '../config/env';
import { buildRepository, builds } from './builds';
import { references } from './references';
import { db, once, runtimeConfig } from './store';

/** The artifact rules over the store `makeStore` builds for the configured bucket. */
export function composeArtifacts<Store extends PointerStore>(
  makeStore: (cfg: SignedS3Config) => Store,
): ArtifactService<Store> {
  const cfg = runtimeConfig();
  if (!cfg.artifactsBucket) {
    throw new Error(`${ENV.artifactsBucket} is not set: this function was not bound to the artifacts bucket`);
  }
  return new ArtifactService({
    builds: buildRepository(),
    reports: builds(),
    artifacts: new ArtifactRepository(db(), cfg.tableName),
    store: makeStore({ ...cfg, artifactsBucket: cfg.artifactsBucket }),
    catalogs: references(),
  });
}

export const artifactReports = once(() => composeArtifacts((cfg) => new SignedS3(cfg)));

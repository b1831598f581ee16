/**
 * Signed provenance (lib/provenance): the signer chosen by configuration (a KMS key in AWS, a key
 * file locally), the bucket and the repositories it reads.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { version } from '../../package.json';
import { ArtifactRepository } from '../artifacts/artifact.repository';
import { clientConfig, serviceClient } from '../aws/clients';
import { type Config, ENV } from '../config/env';
import { ProvenanceService } from '../provenance/provenance.service';
import { ProvenanceStore } from '../provenance/provenance.store';
import { FileSigner, KmsSigner, type Signer } from '../provenance/signer';
import { buildRepository } from './build-repository';
import { lineageRepository } from './lineage';
import { s3Client } from './object-store';
import { db, once, runtimeConfig } from './store';

export function createSigner(cfg: Pick<Config, 'signingKeyArn' | 'signingKeyFile' | 'region'>): Signer {
  if (cfg.signingKeyArn)
    return new KmsSigner(serviceClient(new KMSClient(clientConfig(cfg.region))), cfg.signingKeyArn);
  if (cfg.signingKeyFile) return new FileSigner(cfg.signingKeyFile);
  throw new Error(
    `Set ${ENV.signingKeyArn} or ${ENV.signingKeyFile}: this function signs or serves provenance`,
  );
}

export const provenance = /* @__PURE__ */ once(() => {
  const cfg = runtimeConfig();
  if (!cfg.artifactsBucket)
    throw new Error(`${ENV.artifactsBucket} is not set: this function was not bound to the artifacts bucket`);
  return new ProvenanceService({
    builds: buildRepository(),
    artifacts: new ArtifactRepository(db(), cfg.tableName),
    lineage: lineageRepository(),
    store: new ProvenanceStore(s3Client(), cfg.artifactsBucket, db(), cfg.tableName),
    signer: createSigner(cfg),
    serviceVersion: version,
  });
});

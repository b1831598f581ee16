/** Builds, their history and state reports. */
import { BuildService } from '../builds/build.service';
import { LeaseRepository } from '../leases/lease.repository';
import { Ancestry } from '../lineage/ancestry';
import { LineageRepository } from '../lineage/lineage.repository';
import { buildRepository } from './build-repository';
import { idempotency, references } from './references';
import { db, once, runtimeConfig } from './store';

export { buildRepository };

const leaseRepository = /* @__PURE__ */ once(() => new LeaseRepository(db(), runtimeConfig().tableName));

export const builds = /* @__PURE__ */ once(
  () =>
    new BuildService({
      builds: buildRepository(),
      // A new build records its ancestry and cannot commit under a revoked ancestor (lib/lineage).
      ancestry: new Ancestry(new LineageRepository(db(), runtimeConfig().tableName), buildRepository()),
      idempotency: idempotency(),
      catalogs: references(),
      references: references(),
      defaultMaxAttempts: runtimeConfig().defaultMaxAttempts,
      heartbeatTimeoutSeconds: runtimeConfig().heartbeatTimeoutSeconds,
      liveSigns: (id) => leaseRepository().get(id),
      rates: (platformId) => references().rateOf(platformId),
    }),
);

/** Worker leases and heartbeats on the live item. */
import { LeaseRepository } from '../leases/lease.repository';
import { LeaseService } from '../leases/lease.service';
import { buildRepository, builds } from './builds';
import { db, once, runtimeConfig } from './store';

export const leases = /* @__PURE__ */ once(
  () =>
    new LeaseService({
      leases: new LeaseRepository(db(), runtimeConfig().tableName),
      getBuild: (id) => buildRepository().get(id),
      leaseChanged: (id, leaseId, hourlyCost) => builds().noteLease(id, leaseId, hourlyCost),
    }),
);

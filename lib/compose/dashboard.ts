/** The dashboard API, stuck detection and its outbox. */
import { DashboardRepository } from '../dashboard/dashboard.repository';
import { DashboardService } from '../dashboard/dashboard.service';
import { OutboxRepository } from '../events/outbox.repository';
import { references } from './references';
import { db, once, runtimeConfig } from './store';

export const dashboard = /* @__PURE__ */ once(() => {
  const cfg = runtimeConfig();
  return new DashboardService({
    repo: new DashboardRepository(db(), cfg.tableName),
    catalogs: references(),
    policy: {
      heartbeatTimeoutSeconds: cfg.heartbeatTimeoutSeconds,
      overdueFactor: cfg.overdueFactor,
      overdueMinSamples: cfg.overdueMinSamples,
    },
  });
});

export const outbox = /* @__PURE__ */ once(() => new OutboxRepository(db(), runtimeConfig().tableName));

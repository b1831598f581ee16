/** Images, ancestry, channels and revocation (lib/lineage), over the builds' repository. */
import { Ancestry } from '../lineage/ancestry';
import { LineageRepository } from '../lineage/lineage.repository';
import { LineageService } from '../lineage/lineage.service';
import { RevocationService } from '../lineage/revocation.service';
import { buildRepository } from './build-repository';
import { idempotency } from './references';
import { db, once, runtimeConfig } from './store';

export const lineageRepository = /* @__PURE__ */ once(
  () => new LineageRepository(db(), runtimeConfig().tableName),
);

export const ancestry = /* @__PURE__ */ once(() => new Ancestry(lineageRepository(), buildRepository()));

export const lineage = /* @__PURE__ */ once(
  () =>
    new LineageService({
      builds: buildRepository(),
      lineage: lineageRepository(),
      idempotency: idempotency(),
    }),
);

export const revocations = /* @__PURE__ */ once(
  () =>
    new RevocationService({
      builds: buildRepository(),
      lineage: lineageRepository(),
      idempotency: idempotency(),
    }),
);

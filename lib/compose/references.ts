/** Reference data, the state catalogs (every build use case reads them) and idempotency records. */
import { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { ReferenceRepository } from '../reference/reference.repository';
import { ReferenceService } from '../reference/reference.service';
import { db, once, runtimeConfig } from './store';

export const idempotency = /* @__PURE__ */ once(
  () => new IdempotencyRepository(db(), runtimeConfig().tableName, runtimeConfig().idempotencyTtlSeconds),
);

export const references = /* @__PURE__ */ once(
  () =>
    new ReferenceService({
      repo: new ReferenceRepository(db(), runtimeConfig().tableName),
      idempotency: idempotency(),
      catalogCacheTtlSeconds: runtimeConfig().catalogCacheTtlSeconds,
    }),
);

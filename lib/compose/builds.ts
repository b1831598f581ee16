/** Builds, their history and state reports. */
import { BuildRepository } from '../builds/build.repository';
import { BuildService } from '../builds/build.service';
import { idempotency, references } from './references';
import { db, once, runtimeConfig } from './store';

export const buildRepository = once(() => new BuildRepository(db(), runtimeConfig().tableName));

export const builds = once(
  () =>
    new BuildService({
      builds: buildRepository(),
      idempotency: idempotency(),
      catalogs: references(),
      references: references(),
      defaultMaxAttempts: runtimeConfig().defaultMaxAttempts,
    }),
);

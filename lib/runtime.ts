/**
 * Composition root: wires config, the DynamoDB client, repositories and services once per
 * runtime (Lambda cold start, local gateway process). Handlers ask for services here.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ApiKeyRepository } from './auth/api-key.repository';
import { ApiKeyService } from './auth/api-key.service';
import { Authenticator } from './auth/authenticator';
import { jwtSecretSource } from './auth/jwt-secret';
import { LoginThrottle } from './auth/login-throttle';
import { TokenService } from './auth/token.service';
import { UserRepository } from './auth/user.repository';
import { UserService } from './auth/user.service';
import { BuildRepository } from './builds/build.repository';
import { BuildService } from './builds/build.service';
import { type Config, config } from './config/env';
import { DashboardRepository } from './dashboard/dashboard.repository';
import { DashboardService } from './dashboard/dashboard.service';
import { createDocumentClient } from './db/client';
import { translateStoreError } from './db/errors';
import { OutboxRepository } from './events/outbox.repository';
import { IdempotencyRepository } from './idempotency/idempotency.repository';
import { LeaseRepository } from './leases/lease.repository';
import { LeaseService } from './leases/lease.service';
import { ReferenceRepository } from './reference/reference.repository';
import { ReferenceService } from './reference/reference.service';

export function createServices(cfg: Config) {
  const db = createDocumentClient(cfg);
  const buildRepository = new BuildRepository(db, cfg.tableName);
  const idempotency = new IdempotencyRepository(db, cfg.tableName, cfg.idempotencyTtlSeconds);
  const references = new ReferenceService({
    repo: new ReferenceRepository(db, cfg.tableName),
    idempotency,
    catalogCacheTtlSeconds: cfg.catalogCacheTtlSeconds,
  });
  const builds = new BuildService({
    builds: buildRepository,
    idempotency,
    catalogs: references,
    references,
    defaultMaxAttempts: cfg.defaultMaxAttempts,
  });
  const users = new UserService(new UserRepository(db, cfg.tableName));
  const apiKeys = new ApiKeyService(new ApiKeyRepository(db, cfg.tableName), {
    cacheTtlSeconds: cfg.authCacheTtlSeconds,
    owners: (username) => users.active(username),
  });
  const tokens = new TokenService({
    users,
    secret: jwtSecretSource({ value: cfg.jwtSecret, arn: cfg.jwtSecretArn, region: cfg.region }),
    ttlSeconds: cfg.jwtTtlSeconds,
    oidc: cfg.oidc,
    throttle: new LoginThrottle(db, cfg.tableName),
  });
  const authenticator = new Authenticator(apiKeys, tokens);
  const dashboard = new DashboardService({
    repo: new DashboardRepository(db, cfg.tableName),
    catalogs: references,
    policy: {
      heartbeatTimeoutSeconds: cfg.heartbeatTimeoutSeconds,
      overdueFactor: cfg.overdueFactor,
      overdueMinSamples: cfg.overdueMinSamples,
    },
  });
  const outbox = new OutboxRepository(db, cfg.tableName);
  const leases = new LeaseService({
    leases: new LeaseRepository(db, cfg.tableName),
    getBuild: (id) => buildRepository.get(id),
  });
  /** Readiness: one cheap consistent read proves the table exists and answers. */
  const ready = async () => {
    await db
      .send(
        new GetCommand({
          TableName: cfg.tableName,
          Key: { pk: 'META#READY', sk: 'META' },
          ConsistentRead: true,
        }),
      )
      .catch(translateStoreError);
  };
  return {
    config: cfg,
    db,
    builds,
    references,
    apiKeys,
    users,
    tokens,
    authenticator,
    leases,
    dashboard,
    outbox,
    ready,
  };
}
export type Services = ReturnType<typeof createServices>;

let cached: Services | undefined;
export function services(): Services {
  cached ??= createServices(config());
  return cached;
}

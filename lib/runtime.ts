/**
 * Every service of the runtime in one object, for the processes that run all function groups at
 * once: the local gateway, `npm start`, scripts and tests. Lambda functions never import this
 * module (dependency-cruiser enforces it): each imports the factories of lib/compose/ its routes
 * use, so its bundle holds only that code. The objects are the same ones either way (each
 * factory builds once per runtime).
 */

import { builds } from './compose/builds';
import { dashboard, outbox } from './compose/dashboard';
import { apiKeys, authenticator, tokens, users } from './compose/identity';
import { leases } from './compose/leases';
import { references } from './compose/references';
import { db, ready } from './compose/store';
import { type Config, config } from './config/env';

export interface Services {
  config: Config;
  db: ReturnType<typeof db>;
  builds: ReturnType<typeof builds>;
  references: ReturnType<typeof references>;
  apiKeys: ReturnType<typeof apiKeys>;
  users: ReturnType<typeof users>;
  tokens: ReturnType<typeof tokens>;
  authenticator: ReturnType<typeof authenticator>;
  leases: ReturnType<typeof leases>;
  dashboard: ReturnType<typeof dashboard>;
  outbox: ReturnType<typeof outbox>;
  ready: () => Promise<void>;
}

export function services(): Services {
  return {
    get config() {
      return config();
    },
    get db() {
      return db();
    },
    get builds() {
      return builds();
    },
    get references() {
      return references();
    },
    get apiKeys() {
      return apiKeys();
    },
    get users() {
      return users();
    },
    get tokens() {
      return tokens();
    },
    get authenticator() {
      return authenticator();
    },
    get leases() {
      return leases();
    },
    get dashboard() {
      return dashboard();
    },
    get outbox() {
      return outbox();
    },
    ready,
  };
}

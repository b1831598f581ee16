/** API keys, users, tokens and the authenticator (the authorizer, the identity routes, the local gateway). */
import { ApiKeyRepository } from '../auth/api-key.repository';
import { ApiKeyService } from '../auth/api-key.service';
import { Authenticator } from '../auth/authenticator';
import { jwtSecretSource } from '../auth/jwt-secret';
import { LoginThrottle } from '../auth/login-throttle';
import { RefreshTokenRepository } from '../auth/refresh-token.repository';
import { RefreshTokenService } from '../auth/refresh-token.service';
import { TokenService } from '../auth/token.service';
import { UserRepository } from '../auth/user.repository';
import { UserService } from '../auth/user.service';
import { TrustPolicyRepository } from '../oidc/trust-policy.repository';
import { db, once, runtimeConfig } from './store';

export const apiKeys = /* @__PURE__ */ once(
  () =>
    new ApiKeyService(new ApiKeyRepository(db(), runtimeConfig().tableName), {
      cacheTtlSeconds: runtimeConfig().authCacheTtlSeconds,
      // A key that belongs to a user is never wider than the user, and dies with them.
      owners: (username) => users().active(username),
    }),
);

export const users = /* @__PURE__ */ once(
  () => new UserService(new UserRepository(db(), runtimeConfig().tableName)),
);

export const tokens = /* @__PURE__ */ once(() => {
  const cfg = runtimeConfig();
  return new TokenService({
    users: users(),
    secret: jwtSecretSource({ value: cfg.jwtSecret, arn: cfg.jwtSecretArn, region: cfg.region }),
    ttlSeconds: cfg.jwtTtlSeconds,
    oidc: cfg.oidc,
    throttle: new LoginThrottle(db(), cfg.tableName),
    refresh: new RefreshTokenService(new RefreshTokenRepository(db(), cfg.tableName), cfg.refreshTtlSeconds),
    trustPolicyActive: async (id) => {
      const policy = await new TrustPolicyRepository(db(), cfg.tableName).get(id);
      return policy !== null && policy.deleted_at === null;
    },
  });
});

export const authenticator = /* @__PURE__ */ once(() => new Authenticator(apiKeys(), tokens()));

/** API keys, users and tokens. No idempotent replay here: a replayed response would have to store a secret. */
import {
  apiKeyIdSchema,
  createApiKeySchema,
  createUserSchema,
  includeQuerySchema,
  listApiKeysQuerySchema,
  refreshRequestSchema,
  revokeRequestSchema,
  tokenRequestSchema,
  usernameSchema,
} from '../../lib/auth/identity.schema';
import { apiKeys, tokens, users } from '../../lib/compose/identity';
import { dispatch } from '../../lib/http/dispatch';
import { fromOutcome, httpHandler, parseBody, parseQuery, pathParam } from '../../lib/http/handler';
import { IDENTITY_ROUTES } from '../../lib/http/identity.routes';
import { created } from '../../lib/outcome';

/** Answers with credentials in them are never cached. */
const NO_STORE = { 'cache-control': 'no-store' };

export const handler = dispatch('identity', IDENTITY_ROUTES, {
  issueToken: httpHandler(async (req) => {
    const { username, password, ttl_s } = parseBody(req, tokenRequestSchema);
    return fromOutcome(req, { body: await tokens().issue(username, password, ttl_s) }, NO_STORE);
  }),
  refreshToken: httpHandler(async (req) => {
    const { refresh_token, ttl_s } = parseBody(req, refreshRequestSchema);
    return fromOutcome(req, { body: await tokens().refresh(refresh_token, ttl_s) }, NO_STORE);
  }),
  revokeRefreshToken: httpHandler(async (req) => {
    const { refresh_token } = parseBody(req, revokeRequestSchema);
    return fromOutcome(req, { body: { revoked: await tokens().revoke(refresh_token) } }, NO_STORE);
  }),
  createApiKey: httpHandler(async (req) => {
    const key = await apiKeys().create(parseBody(req, createApiKeySchema), req.principal);
    return fromOutcome(req, created(key), { location: `/api-keys/${key.id}`, ...NO_STORE });
  }),
  listApiKeys: httpHandler(async (req) => {
    const q = parseQuery(req, listApiKeysQuerySchema);
    return fromOutcome(req, { body: { items: await apiKeys().list(q.include_revoked === 'true', q.owner) } });
  }),
  revokeApiKey: httpHandler(async (req) =>
    fromOutcome(req, { body: await apiKeys().revoke(pathParam(req, 'id', apiKeyIdSchema), req.principal) }),
  ),
  createUser: httpHandler(async (req) => {
    const user = await users().create(parseBody(req, createUserSchema), req.principal);
    return fromOutcome(req, created(user), { location: `/users/${user.username}` });
  }),
  listUsers: httpHandler(async (req) => {
    const q = parseQuery(req, includeQuerySchema('include_deactivated'));
    return fromOutcome(req, { body: { items: await users().list(q.include_deactivated === 'true') } });
  }),
  deactivateUser: httpHandler(async (req) =>
    fromOutcome(req, {
      body: await users().deactivate(pathParam(req, 'username', usernameSchema), req.principal),
    }),
  ),
});

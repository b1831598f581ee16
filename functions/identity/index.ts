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
import { httpHandler, parseBody, parseQuery, pathParam } from '../../lib/http/handler';
import { IDENTITY_ROUTES } from '../../lib/http/identity.routes';

export const handler = dispatch('identity', IDENTITY_ROUTES, {
  issueToken: httpHandler(async (req) => {
    const { username, password, ttl_s } = parseBody(req, tokenRequestSchema);
    return {
      status: 200,
      body: await tokens().issue(username, password, ttl_s),
      headers: { 'cache-control': 'no-store' },
    };
  }),
  refreshToken: httpHandler(async (req) => {
    const { refresh_token, ttl_s } = parseBody(req, refreshRequestSchema);
    return {
      status: 200,
      body: await tokens().refresh(refresh_token, ttl_s),
      headers: { 'cache-control': 'no-store' },
    };
  }),
  revokeRefreshToken: httpHandler(async (req) => {
    const { refresh_token } = parseBody(req, revokeRequestSchema);
    return {
      status: 200,
      body: { revoked: await tokens().revoke(refresh_token) },
      headers: { 'cache-control': 'no-store' },
    };
  }),
  createApiKey: httpHandler(async (req) => {
    const key = await apiKeys().create(parseBody(req, createApiKeySchema), req.principal);
    return {
      status: 201,
      body: key,
      headers: { location: `/api-keys/${key.id}`, 'cache-control': 'no-store' },
    };
  }),
  listApiKeys: httpHandler(async (req) => {
    const q = parseQuery(req, listApiKeysQuerySchema);
    return { status: 200, body: { items: await apiKeys().list(q.include_revoked === 'true', q.owner) } };
  }),
  revokeApiKey: httpHandler(async (req) => ({
    status: 200,
    body: await apiKeys().revoke(pathParam(req, 'id', apiKeyIdSchema), req.principal),
  })),
  createUser: httpHandler(async (req) => {
    const user = await users().create(parseBody(req, createUserSchema), req.principal);
    return { status: 201, body: user, headers: { location: `/users/${user.username}` } };
  }),
  listUsers: httpHandler(async (req) => {
    const q = parseQuery(req, includeQuerySchema('include_deactivated'));
    return { status: 200, body: { items: await users().list(q.include_deactivated === 'true') } };
  }),
  deactivateUser: httpHandler(async (req) => ({
    status: 200,
    body: await users().deactivate(pathParam(req, 'username', usernameSchema), req.principal),
  })),
});

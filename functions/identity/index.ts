/** API keys, users and tokens. No idempotent replay here: a replayed response would have to store a secret. */
import {
  apiKeyIdSchema,
  createApiKeySchema,
  createUserSchema,
  includeQuerySchema,
  listApiKeysQuerySchema,
  tokenRequestSchema,
  usernameSchema,
} from '../../lib/auth/identity.schema';
import { dispatch } from '../../lib/http/dispatch';
import { httpHandler, pathParam } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = dispatch('identity', {
  issueToken: httpHandler(async (req) => {
    const { username, password, ttl_s } = parse(tokenRequestSchema, req.body, 'body');
    return {
      status: 200,
      body: await services().tokens.issue(username, password, ttl_s),
      headers: { 'cache-control': 'no-store' },
    };
  }),
  createApiKey: httpHandler(async (req) => {
    const key = await services().apiKeys.create(parse(createApiKeySchema, req.body, 'body'), req.principal);
    return {
      status: 201,
      body: key,
      headers: { location: `/api-keys/${key.id}`, 'cache-control': 'no-store' },
    };
  }),
  listApiKeys: httpHandler(async (req) => {
    const q = parse(listApiKeysQuerySchema, req.query, 'query');
    return {
      status: 200,
      body: { items: await services().apiKeys.list(q.include_revoked === 'true', q.owner) },
    };
  }),
  revokeApiKey: httpHandler(async (req) => ({
    status: 200,
    body: await services().apiKeys.revoke(pathParam(req, 'id', apiKeyIdSchema), req.principal),
  })),
  createUser: httpHandler(async (req) => {
    const user = await services().users.create(parse(createUserSchema, req.body, 'body'), req.principal);
    return { status: 201, body: user, headers: { location: `/users/${user.username}` } };
  }),
  listUsers: httpHandler(async (req) => {
    const q = parse(includeQuerySchema('include_deactivated'), req.query, 'query');
    return { status: 200, body: { items: await services().users.list(q.include_deactivated === 'true') } };
  }),
  deactivateUser: httpHandler(async (req) => ({
    status: 200,
    body: await services().users.deactivate(pathParam(req, 'username', usernameSchema), req.principal),
  })),
});

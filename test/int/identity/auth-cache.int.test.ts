/**
 * The authorizer's result cache (BUILDSTATE_AUTH_CACHE_TTL_S, default 60 s), mirrored by the local
 * gateway as API Gateway caches a Lambda authorizer: a verified key is not read again within the
 * TTL (counted as requests the engine receives), a revocation through the API applies at once in
 * the same process, an expiry applies from its instant, and TTL 0 reads the key on every request.
 */
import { ApiKeyRepository } from '../../../lib/auth/api-key.repository';
import { ApiKeyService } from '../../../lib/auth/api-key.service';
import { GetCommand } from '../../../lib/db/commands';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
/** GetItem requests for API key items the engine received, through the service's own client. */
let keyReads = 0;
beforeAll(async () => {
  stack = await startTestStack();
  // Every command the service sends goes through its document client's send().
  const db = services().db;
  const send = db.send.bind(db);
  db.send = ((command: Parameters<typeof send>[0]) => {
    const pk = (command.input as { Key?: { pk?: string } }).Key?.pk;
    if (command instanceof GetCommand && pk?.startsWith('APIKEY#')) keyReads++;
    return send(command);
  }) as typeof db.send;
});
afterAll(() => stack.stop());

const newKey = async (extra: Record<string, unknown> = {}) => {
  const res = await stack.call('POST', '/api-keys', { name: 'cache probe', scopes: ['read'], ...extra });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
};
const health = (secret: string) => stack.call('GET', '/builds?limit=1', undefined, { 'x-api-key': secret });

it('reads a verified key once, then answers from the cache', async () => {
  const key = await newKey();
  const before = keyReads;
  expect((await health(key.secret)).status).toBe(200);
  expect(keyReads - before).toBe(1);
  for (let i = 0; i < 5; i++) expect((await health(key.secret)).status).toBe(200);
  expect(keyReads - before).toBe(1);
});

it('refuses a key revoked through the API on the very next request, cached or not', async () => {
  const key = await newKey();
  expect((await health(key.secret)).status).toBe(200);
  expect((await stack.call('DELETE', `/api-keys/${key.id}`)).status).toBe(200);
  const after = await health(key.secret);
  expect(after.status).toBe(401);
  expect(after.body.error.message).toMatch(/revoked/);
});

it('refuses a cached key once its expires_at has passed', async () => {
  const key = await newKey({ expires_at: new Date(Date.now() + 1500).toISOString() });
  expect((await health(key.secret)).status).toBe(200);
  const reads = keyReads;
  expect((await health(key.secret)).status).toBe(200);
  expect(keyReads).toBe(reads);
  await new Promise((r) => setTimeout(r, 1600));
  expect((await health(key.secret)).status).toBe(401);
});

it('never caches an unknown key, and reads every time with TTL 0', async () => {
  const before = keyReads;
  for (let i = 0; i < 2; i++) expect((await health('bst_never_issued')).status).toBe(401);
  expect(keyReads - before).toBeGreaterThanOrEqual(2);

  const key = await newKey();
  const uncached = new ApiKeyService(new ApiKeyRepository(services().db, stack.tableName), {
    cacheTtlSeconds: 0,
  });
  const start = keyReads;
  for (let i = 0; i < 3; i++) await uncached.authenticate(key.secret);
  expect(keyReads - start).toBe(3);
});

/**
 * Refresh tokens against DynamoDB Local: issued at login and stored as hashes only, rotated on
 * use, reuse of a rotated one revokes the whole login, revocable, dead with a deactivated user.
 */
import { createHash } from 'node:crypto';
import { refreshTokenKey } from '../../../lib/auth/refresh-token.repository';
import { db, runtimeConfig } from '../../../lib/compose/store';
import { GetCommand } from '../../../lib/db/commands';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  for (const username of ['rory', 'dee'])
    expect(
      (
        await stack.call('POST', '/users', {
          username,
          email: `${username}@example.com`,
          password: 'a long enough password',
          scopes: ['write'],
        })
      ).status,
    ).toBe(201);
});
afterAll(() => stack.stop());

const anonymous = { 'x-api-key': '' };
const login = (username: string) =>
  stack.call('POST', '/auth/token', { username, password: 'a long enough password' }, anonymous);
const refresh = (refresh_token: string) => stack.call('POST', '/auth/refresh', { refresh_token }, anonymous);
const whoami = (token: string) =>
  stack.call('GET', '/whoami', undefined, { ...anonymous, authorization: `Bearer ${token}` });

describe('refresh tokens', () => {
  it('are issued at login and stored only as their SHA-256', async () => {
    const res = await login('rory');
    expect(res.status).toBe(200);
    const token = res.body.refresh_token as string;
    expect(token).toMatch(/^bsr_[\w-]{43}$/);
    expect(Date.parse(res.body.refresh_expires_at)).toBeGreaterThan(Date.now() + 29 * 86400_000);
    const hash = createHash('sha256').update(token).digest('hex');
    const item = (
      await db().send(new GetCommand({ TableName: runtimeConfig().tableName, Key: refreshTokenKey(hash) }))
    ).Item!;
    expect(item).toMatchObject({ token_hash: hash, username: 'rory', used_at: null });
    expect(JSON.stringify(item)).not.toContain(token);
  });

  it('rotate on use: a new access token and refresh token; the old refresh token dies', async () => {
    const first = (await login('rory')).body;
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ token_type: 'Bearer', scope: 'write read' });
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await whoami(second.body.access_token)).body).toMatchObject({ name: 'rory', type: 'user' });
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect((await whoami(third.body.access_token)).status).toBe(200);
  });

  it('reuse of a rotated token revokes the whole login, including the newest token', async () => {
    const first = (await login('rory')).body;
    const second = (await refresh(first.refresh_token)).body;
    const reused = await refresh(first.refresh_token);
    expect(reused.status).toBe(401);
    expect(reused.body.error.message).toMatch(/already used: the login is revoked/);
    const newest = await refresh(second.refresh_token);
    expect(newest.status).toBe(401);
    expect(newest.body.error.message).toMatch(/revoked/);
    // Another login of the same user is not touched.
    expect((await refresh((await login('rory')).body.refresh_token)).status).toBe(200);
  });

  it('concurrent use of one token: exactly one rotation wins', async () => {
    const first = (await login('rory')).body;
    const answers = await Promise.all(Array.from({ length: 5 }, () => refresh(first.refresh_token)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(4);
  });

  it('revoke ends the login (an unknown token is not an error)', async () => {
    const first = (await login('rory')).body;
    const revoked = await stack.call(
      'POST',
      '/auth/revoke',
      { refresh_token: first.refresh_token },
      anonymous,
    );
    expect(revoked).toMatchObject({ status: 200, body: { revoked: true } });
    expect((await refresh(first.refresh_token)).status).toBe(401);
    expect(
      (await stack.call('POST', '/auth/revoke', { refresh_token: 'bsr_unknown' }, anonymous)).body,
    ).toEqual({ revoked: false });
    expect((await refresh('not-a-token')).status).toBe(401);
  });

  it('die with a deactivated user', async () => {
    const first = (await login('dee')).body;
    expect((await stack.call('DELETE', '/users/dee')).status).toBe(200);
    const res = await refresh(first.refresh_token);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/deactivated/);
  });
});

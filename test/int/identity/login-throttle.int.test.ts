/** POST /auth/token slows password guessing: 5 failures in 15 minutes lock a username, known or not. */
import { LoginThrottle, MAX_FAILURES, WINDOW_SECONDS } from '../../../lib/auth/login-throttle';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.call('POST', '/users', {
    username: 'carol',
    password: 'correct horse battery',
    scopes: ['read'],
  });
});
afterAll(() => stack.stop());

const login = (username: string, password: string) =>
  stack.call('POST', '/auth/token', { username, password });

it('locks a username after 5 wrong passwords, even for the right one, with Retry-After', async () => {
  for (let i = 0; i < MAX_FAILURES; i++) expect((await login('carol', 'wrong')).status).toBe(401);
  const locked = await login('carol', 'correct horse battery');
  expect(locked.status).toBe(429);
  expect(locked.body.error.code).toBe('too_many_requests');
  const retryAfter = Number(locked.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(WINDOW_SECONDS - 60);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
  expect(locked.body.error.details.retry_after_s).toBe(retryAfter);
});

it('treats unknown usernames the same way, so the answers reveal nothing', async () => {
  for (let i = 0; i < MAX_FAILURES; i++) expect((await login('nobody', 'x')).status).toBe(401);
  expect((await login('nobody', 'x')).status).toBe(429);
});

it('opens again when the window ends, and a success resets the count', async () => {
  let now = Date.parse('2026-09-01T00:00:00Z');
  const throttle = new LoginThrottle(services().db, stack.tableName, () => new Date(now));
  for (let i = 0; i < MAX_FAILURES; i++) {
    expect(await throttle.check('dave')).toBe(i);
    await throttle.failed('dave');
  }
  await expect(throttle.check('dave')).rejects.toMatchObject({ code: 'too_many_requests' });
  now += WINDOW_SECONDS * 1000;
  expect(await throttle.check('dave')).toBe(0);
  await throttle.failed('dave'); // starts a new window
  expect(await throttle.check('dave')).toBe(1);
  await throttle.succeeded('dave', 1);
  expect(await throttle.check('dave')).toBe(0);
});

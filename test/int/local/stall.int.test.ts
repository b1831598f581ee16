/**
 * A store that stops answering (DynamoDB Local frozen with SIGSTOP) while 8 pipelines report:
 * every report caught by the stall ends with a 503 `unavailable` from the service itself, long
 * before the function's timeout, with Retry-After and details saying the change may have been
 * applied; retrying with the same Idempotency-Key after the stall records each report exactly
 * once (history gap-free), whether or not the stalled attempt had committed.
 */
import { STORE_TIMEOUTS } from '../../../lib/db/client';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  // Its own engine: freezing the shared one would stall every other test file.
  stack = await startTestStack({ ownEngine: true });
}, 60_000);
afterAll(async () => {
  if (stack?.dynamodb) process.kill(stack.dynamodb.pid, 'SIGCONT');
  await stack?.stop();
});

const REPORTERS = 8;
const CODES = [5, 10, 15, 20, 25, 30, 35, 40];
const STALL_MS = 12_000;
/** The most one stalled call may take: every attempt's connection and request timeouts, plus backoff. */
const STORE_BUDGET_MS =
  STORE_TIMEOUTS.attempts * (STORE_TIMEOUTS.requestTimeoutMs + STORE_TIMEOUTS.connectionTimeoutMs) + 1_000;

interface Stalled {
  ms: number;
  status: number;
  retryAfter: string | null;
  code: string;
  details: Record<string, unknown>;
  replayedLater: boolean;
}

it('answers 503 with Retry-After during a stall, and retries with the same key record each report once', async () => {
  const ids = Array.from({ length: REPORTERS }, (_, n) => `stall-${n}`);
  for (const id of ids)
    expect(
      (await stack.call('POST', '/builds', { id, platform_id: 'aws', image_type_id: 'rhel9' })).status,
    ).toBe(201);
  const pid = stack.dynamodb!.pid;
  const stalled: Stalled[] = [];
  const unexpected: { status: number; body: unknown }[] = [];
  let frozen = false;

  const reporter = async (id: string) => {
    for (const code of CODES) {
      const key = `${id}-state-${code}`;
      let pending: Stalled | undefined;
      for (;;) {
        const started = Date.now();
        const res = await stack.call(
          'POST',
          `/builds/${id}/states`,
          { state_code: code, status: 'completed' },
          { 'idempotency-key': key },
        );
        const ms = Date.now() - started;
        if (res.status === 201) {
          if (pending) pending.replayedLater = res.headers.get('idempotent-replayed') === 'true';
          break;
        }
        if (res.status !== 503) {
          unexpected.push({ status: res.status, body: res.body });
          return;
        }
        pending = {
          ms,
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          code: res.body.error.code,
          details: res.body.error.details,
          replayedLater: false,
        };
        stalled.push(pending);
        await new Promise((r) => setTimeout(r, frozen ? 1_000 : 200));
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  };

  const run = Promise.all(ids.map(reporter));
  await new Promise((r) => setTimeout(r, 600));
  process.kill(pid, 'SIGSTOP');
  frozen = true;
  await new Promise((r) => setTimeout(r, STALL_MS));
  process.kill(pid, 'SIGCONT');
  frozen = false;
  await run;

  expect(unexpected).toEqual([]);
  // Every reporter was caught by the stall at least once.
  expect(stalled.length).toBeGreaterThanOrEqual(REPORTERS);
  for (const s of stalled) {
    expect(s).toMatchObject({ status: 503, code: 'unavailable', retryAfter: expect.stringMatching(/^\d+$/) });
    expect(s.ms).toBeLessThan(STORE_BUDGET_MS + 2_000);
    // Refused while the caller was being authenticated: nothing can have been applied; otherwise
    // the outcome is unknown and the same Idempotency-Key settles it.
    expect(typeof s.details.may_have_applied).toBe('boolean');
    if (!s.details.may_have_applied) expect(s.replayedLater).toBe(false);
  }
  expect(stalled.some((s) => s.details.may_have_applied === true)).toBe(true);
  const applied = stalled.filter((s) => s.replayedLater).length;
  console.log(
    `stall: ${stalled.length} answers of 503 during a ${STALL_MS / 1000} s stall, slowest ${Math.max(...stalled.map((s) => s.ms))} ms; ` +
      `${applied} of them had in fact committed (their retry replayed)`,
  );

  for (const id of ids) {
    const history = (await stack.call('GET', `/builds/${id}/history`)).body.items as {
      seq: number;
      state_code: number;
      event: string;
    }[];
    expect(history.map((h) => h.seq)).toEqual(history.map((_, n) => n + 1));
    expect(history.filter((h) => h.event === 'state_reported').map((h) => h.state_code)).toEqual(CODES);
  }
}, 120_000);

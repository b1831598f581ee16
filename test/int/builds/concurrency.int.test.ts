/** Races through the real gateway against DynamoDB Local: exactly-once acceptance, gap-free history. */
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const create = async () =>
  (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body.id as string;

describe('racing reports', () => {
  it('accepts exactly one of 50 in_progress reports of the same new state', async () => {
    const id = await create();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stack.call('POST', `/builds/${id}/states`, {
          state_code: 5,
          status: 'in_progress',
          worker_id: `w${i}`,
        }),
      ),
    );
    const statuses = results.map((r) => (r.status === 201 ? 201 : `${r.status} ${r.body.error.code}`));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === '409 already_in_progress')).toHaveLength(49);

    const history = (await stack.call('GET', `/builds/${id}/history`)).body.items;
    expect(history.map((h: { seq: number }) => h.seq)).toEqual([1, 2]);
    const winner = results.find((r) => r.status === 201)!.body.last_worker_id;
    expect(history[1]).toMatchObject({ state_code: 5, status: 'in_progress', worker_id: winner });
  });

  it('keeps history gap-free and monotonic when distinct forward codes race', async () => {
    const id = await create();
    const codes = Array.from({ length: 30 }, (_, i) => i * 3 + 1); // 1, 4, …, 88: all forward of 0
    const results = await Promise.all(
      codes.map((state_code) =>
        stack.call('POST', `/builds/${id}/states`, { state_code, status: 'in_progress' }),
      ),
    );
    const accepted = results.filter((r) => r.status === 201);
    const rejected = results.filter((r) => r.status !== 201);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const r of rejected) expect([r.status, r.body.error.code]).toEqual([409, 'state_regression']);

    const history = (await stack.call('GET', `/builds/${id}/history`)).body.items as {
      seq: number;
      state_code: number;
    }[];
    expect(history.map((h) => h.seq)).toEqual(Array.from({ length: accepted.length + 1 }, (_, i) => i + 1));
    const reported = history.slice(1).map((h) => h.state_code);
    expect([...reported].sort((a, b) => a - b)).toEqual(reported);
    expect(new Set(reported).size).toBe(reported.length);
    const build = (await stack.call('GET', `/builds/${id}`)).body;
    expect(build.version).toBe(history.length);
    expect(build.current_state).toBe(reported.at(-1));
  });

  it('records a retried report once when racing copies share an Idempotency-Key', async () => {
    const id = await create();
    const headers = { 'idempotency-key': `race-${id}` };
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'in_progress' }, headers),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect((await stack.call('GET', `/builds/${id}/history`)).body.items).toHaveLength(2);
  });
});

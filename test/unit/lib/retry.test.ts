import { AGAIN, backoffMs, retry } from '../../../lib/retry';

/** A recorded sleep: the waits asked for, no real time spent. */
const recorder = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};

describe('retry', () => {
  it('returns the first value nobody wants retried, after as many attempts as it took', async () => {
    const { waits, sleep } = recorder();
    const seen: number[] = [];
    const value = await retry(
      async (attempt) => {
        seen.push(attempt);
        return attempt < 3 ? 'raced' : 'done';
      },
      { attempts: 10, baseMs: 5, capMs: 200, retryValue: (v) => v === 'raced', random: () => 0.5, sleep },
    );
    expect(value).toBe('done');
    expect(seen).toEqual([1, 2, 3]);
    // min(5 · 2^n, 200) · 0.5 after attempts 1 and 2.
    expect(waits).toEqual([5, 10]);
  });

  it('stops after `attempts` attempts: the last value is returned, the last error thrown', async () => {
    const { waits, sleep } = recorder();
    let calls = 0;
    const value = await retry(async () => ++calls, {
      attempts: 4,
      baseMs: 1,
      capMs: 1,
      retryValue: () => true,
      sleep,
    });
    expect(value).toBe(4);
    expect(calls).toBe(4);
    expect(waits).toHaveLength(3);

    calls = 0;
    await expect(
      retry(
        async () => {
          throw new Error(`busy ${++calls}`);
        },
        { attempts: 3, baseMs: 1, capMs: 1, retryError: () => true, sleep },
      ),
    ).rejects.toThrow('busy 3');
    expect(calls).toBe(3);
  });

  it('throws an error it was not told to retry at once, without waiting', async () => {
    const { waits, sleep } = recorder();
    let calls = 0;
    const refused = new Error('refused');
    await expect(
      retry(
        async () => {
          calls++;
          throw refused;
        },
        { attempts: 5, baseMs: 10, capMs: 100, retryError: (e) => e !== refused, sleep },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
  });

  it('draws each wait in [0, min(base · 2^attempt, cap)): full jitter under the cap', async () => {
    const o = { baseMs: 5, capMs: 200 };
    for (const attempt of [1, 2, 3, 5, 6, 10]) {
      const bound = Math.min(5 * 2 ** attempt, 200);
      expect(backoffMs(attempt, { ...o, random: () => 0 })).toBe(0);
      expect(backoffMs(attempt, { ...o, random: () => 0.999999 })).toBeLessThan(bound);
      expect(backoffMs(attempt, { ...o, random: () => 0.999999 })).toBeGreaterThan(bound * 0.99);
      expect(backoffMs(attempt, { ...o, jitter: false })).toBe(bound);
    }
    // The real random stays in bounds too.
    for (let i = 0; i < 200; i++) {
      const ms = backoffMs(4, o);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(80);
    }
  });

  it('waits what the failure asks for instead of the backoff, and tells onRetry', async () => {
    const { waits, sleep } = recorder();
    const retries: Array<{ attempt: number; delayMs: number }> = [];
    const value = await retry(async (attempt) => (attempt === 1 ? { retryAfterS: 3 } : { retryAfterS: 0 }), {
      attempts: 3,
      baseMs: 250,
      capMs: 4000,
      retryValue: (v) => v.retryAfterS > 0,
      waitMs: (f) => ('value' in f ? f.value.retryAfterS * 1000 : undefined),
      onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }),
      sleep,
    });
    expect(value).toEqual({ retryAfterS: 0 });
    expect(waits).toEqual([3000]);
    expect(retries).toEqual([{ attempt: 1, delayMs: 3000 }]);
  });

  it('gives up when the next wait would end after the deadline', async () => {
    let clock = 1_000;
    const sleep = async (ms: number) => {
      clock += ms;
    };
    let calls = 0;
    const busy = new Error('busy');
    await expect(
      retry(
        async () => {
          calls++;
          throw busy;
        },
        {
          attempts: 100,
          baseMs: 100,
          capMs: 100_000,
          jitter: false,
          retryError: () => true,
          deadline: 2_000,
          now: () => clock,
          sleep,
        },
      ),
    ).rejects.toBe(busy);
    // Waits of 200 and 400 end at 1600; the next (800) would end at 2400, past the deadline.
    expect(calls).toBe(3);
    expect(clock).toBe(1_600);
  });
});

describe('retry with AGAIN', () => {
  it('calls again while the call returns AGAIN, and returns AGAIN when attempts run out', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    let calls = 0;
    const o = { attempts: 10, baseMs: 5, capMs: 200, random: () => 1, sleep };
    expect(await retry(async () => (++calls < 4 ? AGAIN : 'committed'), o)).toBe('committed');
    expect(calls).toBe(4);
    calls = 0;
    const raced = async () => {
      calls++;
      return AGAIN;
    };
    expect(await retry(raced, o)).toBe(AGAIN);
    expect(calls).toBe(10);
    // 3 waits, then 9 (none after the last attempt): 10, 20, 40, 80, 160, then the 200 ms cap.
    expect(waits).toEqual([10, 20, 40, 10, 20, 40, 80, 160, 200, 200, 200, 200]);
  });
});

/**
 * The one retry loop: a call made up to `attempts` times, with exponential backoff and full
 * jitter between attempts (a wait drawn uniformly in [0, min(baseMs · 2^attempt, capMs)), where
 * `attempt` is the 1-based number of the attempt that just failed), so racing callers spread out.
 *
 * An attempt is retried when it throws an error `retryError` accepts, or returns a value
 * `retryValue` accepts (by default AGAIN: an optimistic write that lost a race, to read again and
 * decide again). Loops whose passes do not all count (a pass on a cached read) keep their own
 * loop and take the same waits from `backoffMs` and `sleep`. When
 * no attempt is left the last error is thrown, or the last value returned: the caller decides
 * what running out means (a 409 `conflict`, a 503, the value as is). Any other error is thrown at
 * once. A wait the failure itself asks for (`waitMs`, e.g. a Retry-After) replaces the backoff; a
 * `deadline` (epoch ms) ends the retries when the next wait would end after it. No dependency:
 * the Lambda bundles take a few hundred bytes, not a library.
 */

export interface RetryOptions<T> {
  /** Attempts in all, the first included (≥ 1). */
  attempts: number;
  /** Backoff: the wait after attempt n is drawn in [0, min(baseMs · 2^n, capMs)). */
  baseMs: number;
  capMs: number;
  /** Draw the wait (full jitter), or take its upper bound (`false`: a fixed exponential wait). */
  jitter?: boolean;
  /** Errors worth another attempt; others are thrown at once (default: none). */
  retryError?: (error: unknown) => boolean;
  /** Values worth another attempt (default: AGAIN). The last one is returned when attempts run out. */
  retryValue?: (value: T) => boolean;
  /** A wait the failure asks for (ms), instead of the backoff; undefined: the backoff. */
  waitMs?: (failure: Failure<T>) => number | undefined;
  /** Epoch ms: no retry whose wait would end after it. */
  deadline?: number;
  /** Called before each wait. */
  onRetry?: (info: { attempt: number; delayMs: number; failure: Failure<T> }) => void;
  /** Injected for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** What an attempt that will be retried ended with. */
export type Failure<T> = { error: unknown } | { value: T };

/** What a call returns to be called again (e.g. its transaction lost a race); returned when attempts run out. */
export const AGAIN: unique symbol = Symbol('retry.again');

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait after attempt `attempt` (1-based) of a backoff: full jitter under an exponential cap. */
export function backoffMs(
  attempt: number,
  o: { baseMs: number; capMs: number; jitter?: boolean; random?: () => number },
): number {
  const bound = Math.min(o.baseMs * 2 ** attempt, o.capMs);
  return o.jitter === false ? bound : (o.random ?? Math.random)() * bound;
}

export async function retry<T>(call: (attempt: number) => Promise<T>, o: RetryOptions<T>): Promise<T> {
  const wait = o.sleep ?? sleep;
  const retryValue = o.retryValue ?? ((value: T) => value === AGAIN);
  const now = o.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    let failure: Failure<T>;
    try {
      const value = await call(attempt);
      if (!retryValue(value)) return value;
      failure = { value };
    } catch (error) {
      if (!o.retryError?.(error)) throw error;
      failure = { error };
    }
    const delayMs = o.waitMs?.(failure) ?? backoffMs(attempt, o);
    const late = o.deadline !== undefined && now() + delayMs > o.deadline;
    if (attempt >= o.attempts || late) {
      if ('error' in failure) throw failure.error;
      return failure.value;
    }
    o.onRetry?.({ attempt, delayMs, failure });
    await wait(delayMs);
  }
}

/**
 * What each attempt of a build cost, as pure functions the state rules call (lib/builds/transitions.ts).
 *
 * - The rate of an attempt: the worker's own `hourly_cost` (on the report that closes it, else on
 *   the in_progress report that started it), else its platform's `hourly_cost` when it closes. The
 *   currency is always the platform's (default USD): a worker's rate is a price in that currency.
 * - The rate, its source and the priced seconds are written on the attempt's history entry
 *   (`cost`), and the amounts are added to the build (`cost` by currency): re-pricing a platform
 *   later changes the attempts that close after it, never one recorded before.
 * - Seconds: an attempt is measured from its in_progress report to the report that closes it, as
 *   /dashboard/durations measures completed ones; a lost attempt to its worker's last sign of life.
 *   An attempt reported whole (no in_progress first) has no measured time and costs nothing.
 */
import { DEFAULT_CURRENCY, priceMicros, toMicros } from './money';

/** A platform's price, as the state rules see it (null hourly_cost: the platform has none). */
export interface PlatformRate {
  hourly_cost: string | null;
  currency: string;
}

export const RATE_SOURCES = ['worker', 'platform'] as const;
export type RateSource = (typeof RATE_SOURCES)[number];

/** A priced attempt or priced avoided work, on its history entry. Amounts in micro-units. */
export interface EntryCost {
  currency: string;
  hourly_cost: string;
  rate_source: RateSource;
  /** Measured seconds of the attempt this entry closed (0 when it closed none). */
  attempt_s: number;
  attempt_micros: number;
  /** The entry's work_avoided_s at the same rate. */
  avoided_micros: number;
  /** True when the attempt closed as failed (its own failure, interrupted or worker_lost). */
  failed: boolean;
}

/** A build's spending in one currency, micro-units. `total` is the sum of `by_state`. */
export interface CurrencyCost {
  total: number;
  failed: number;
  avoided: number;
  by_state: Record<string, number>;
}
export type BuildCosts = Record<string, CurrencyCost>;

/** The rate for an attempt: the worker's when it gave one, else the platform's; null when neither has one. */
export function rateFor(
  workerRate: string | null | undefined,
  platform: PlatformRate | null | undefined,
): { hourly_cost: string; currency: string; rate_source: RateSource } | null {
  const currency = platform?.currency ?? DEFAULT_CURRENCY;
  if (workerRate) return { hourly_cost: workerRate, currency, rate_source: 'worker' };
  if (platform?.hourly_cost) return { hourly_cost: platform.hourly_cost, currency, rate_source: 'platform' };
  return null;
}

/** The entry cost of `attemptSeconds` of attempt and `avoidedSeconds` of avoided work; null when nothing is priced. */
export function entryCost(
  rate: ReturnType<typeof rateFor>,
  attemptSeconds: number,
  avoidedSeconds: number,
  failed: boolean,
): EntryCost | null {
  if (!rate || (attemptSeconds <= 0 && avoidedSeconds <= 0)) return null;
  const hourly = toMicros(rate.hourly_cost) ?? 0;
  return {
    ...rate,
    attempt_s: Math.max(0, Math.round(attemptSeconds * 1000) / 1000),
    attempt_micros: priceMicros(attemptSeconds, hourly),
    avoided_micros: priceMicros(avoidedSeconds, hourly),
    failed,
  };
}

/** The build's costs with one priced entry added (a new object: builds are values). */
export function addEntryCost(
  costs: BuildCosts | undefined,
  code: number,
  cost: EntryCost | null,
): BuildCosts | undefined {
  if (!cost) return costs;
  const before = costs?.[cost.currency] ?? { total: 0, failed: 0, avoided: 0, by_state: {} };
  const key = String(code);
  const attempt = cost.attempt_micros;
  return {
    ...(costs ?? {}),
    [cost.currency]: {
      total: before.total + attempt,
      failed: before.failed + (cost.failed ? attempt : 0),
      avoided: before.avoided + cost.avoided_micros,
      by_state:
        cost.attempt_s > 0
          ? { ...before.by_state, [key]: (before.by_state[key] ?? 0) + attempt }
          : before.by_state,
    },
  };
}

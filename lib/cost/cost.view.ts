/** Views of costs: amounts as decimal strings with six fraction digits (money.ts). */
import * as z from '../zod';
import { formatMicros } from './money';
import { type BuildCosts, type EntryCost, RATE_SOURCES } from './pricing';

const amount = z
  .string()
  .check(z.meta({ description: 'A decimal amount with 6 fraction digits, such as "0.048000"' }));

const currencyCostSchema = z.strictObject({
  currency: z.string().check(z.meta({ description: 'ISO 4217 code: every amount beside it is in it' })),
  total: amount.check(z.meta({ description: 'What every priced attempt of the build cost' })),
  by_state: z
    .record(z.string(), amount)
    .check(
      z.meta({ description: 'The total by state code: every priced attempt of each state, failed ones too' }),
    ),
  failed: amount.check(
    z.meta({
      description: 'The part of total spent on attempts that failed, were lost (worker_lost) or interrupted',
    }),
  ),
  avoided: amount.check(
    z.meta({
      description:
        'work_avoided_s priced: what resuming (retries) and forking did not spend again; not part of total',
    }),
  ),
});

export const buildCostViewSchema = z.extend(currencyCostSchema, {
  other_currencies: z.optional(z.array(currencyCostSchema)).check(
    z.meta({
      description:
        "Present only when the platform's currency changed during the build: the other currencies' sums, never added",
    }),
  ),
});
export type BuildCostView = z.infer<typeof buildCostViewSchema>;

/** A build's cost in the currency of its platform now (the first otherwise); undefined when nothing was priced. */
export function buildCostView(costs: BuildCosts | undefined, preferred?: string): BuildCostView | undefined {
  const currencies = Object.keys(costs ?? {}).sort();
  if (!costs || currencies.length === 0) return undefined;
  const main = preferred && costs[preferred] ? preferred : currencies[0]!;
  const one = (currency: string) => {
    const c = costs[currency]!;
    return {
      currency,
      total: formatMicros(c.total),
      by_state: Object.fromEntries(
        Object.entries(c.by_state)
          .sort(([a], [b]) => Number(a) - Number(b))
          .map(([code, micros]) => [code, formatMicros(micros)]),
      ),
      failed: formatMicros(c.failed),
      avoided: formatMicros(c.avoided),
    };
  };
  const others = currencies.filter((c) => c !== main);
  return { ...one(main), ...(others.length ? { other_currencies: others.map(one) } : {}) };
}

export const entryCostViewSchema = z.strictObject({
  currency: z.string(),
  hourly_cost: z
    .string()
    .check(z.meta({ description: 'The rate this entry was priced at, recorded when it was written' })),
  rate_source: z.enum(RATE_SOURCES).check(
    z.meta({
      description:
        "worker: the worker's own hourly_cost (report or in_progress report); platform: the platform's",
    }),
  ),
  attempt_s: z.number().check(z.meta({ description: 'Measured seconds of the attempt this entry closed' })),
  amount: amount.check(z.meta({ description: 'What that attempt cost' })),
  avoided: amount.check(z.meta({ description: "This entry's work_avoided_s priced" })),
});

export function entryCostView(cost: EntryCost) {
  return {
    currency: cost.currency,
    hourly_cost: cost.hourly_cost,
    rate_source: cost.rate_source,
    attempt_s: cost.attempt_s,
    amount: formatMicros(cost.attempt_micros),
    avoided: formatMicros(cost.avoided_micros),
  };
}

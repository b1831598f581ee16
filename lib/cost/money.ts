/**
 * Money without float drift: amounts are integers of micro-units (1/1,000,000 of the currency
 * unit) inside the service and in the table, and decimal strings with exactly six fraction digits
 * in every view ("0.096000"). An attempt's price is rounded once, half up, to the micro-unit;
 * every sum (a build's total, a dashboard bucket) is the exact sum of those rounded prices, so the
 * same attempts always add up to the same amount whatever the order or grouping.
 */

export const MICROS_PER_UNIT = 1_000_000;
/** The largest hourly rate accepted: far above any instance price, far below 2^53 micro-units. */
export const MAX_HOURLY_COST_UNITS = 1_000_000;
export const DEFAULT_CURRENCY = 'USD';

const DECIMAL = /^(\d{1,7})(?:\.(\d{1,6}))?$/;

/** Micro-units of a non-negative decimal (number or string) with at most six fraction digits; null if it is not one. */
export function toMicros(value: number | string): number | null {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value.trim();
  const match = DECIMAL.exec(text);
  if (!match) return null;
  const micros = Number(match[1]) * MICROS_PER_UNIT + Number((match[2] ?? '').padEnd(6, '0'));
  return micros <= MAX_HOURLY_COST_UNITS * MICROS_PER_UNIT ? micros : null;
}

/** Micro-units as a decimal string with six fraction digits (negative amounts keep their sign). */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.round(micros));
  const units = Math.floor(abs / MICROS_PER_UNIT);
  return `${sign}${units}.${String(abs % MICROS_PER_UNIT).padStart(6, '0')}`;
}

/** The canonical form of a rate: "0.096" and 0.096 both become "0.096000". */
export const canonicalDecimal = (value: number | string): string | null => {
  const micros = toMicros(value);
  return micros === null ? null : formatMicros(micros);
};

/**
 * What `seconds` cost at `hourlyMicros` per hour, in micro-units, rounded half up. Seconds are
 * taken to the millisecond and multiplied as BigInt, so a long attempt at a high rate stays exact.
 */
export function priceMicros(seconds: number, hourlyMicros: number): number {
  if (!(seconds > 0) || hourlyMicros <= 0) return 0;
  const ms = BigInt(Math.round(seconds * 1000));
  const product = ms * BigInt(hourlyMicros);
  const perHourMs = 3_600_000n;
  return Number((product * 2n + perHourMs) / (perHourMs * 2n));
}

/** ISO 4217 codes this runtime knows (Intl's list: maintained with ICU, no table of our own). */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));
export const isCurrency = (code: string): boolean => CURRENCIES.has(code);

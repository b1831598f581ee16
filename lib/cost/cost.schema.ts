import * as z from '../zod';
import { isCurrency, MAX_HOURLY_COST_UNITS, toMicros } from './money';

/** An hourly price: a decimal ≥ 0 with at most six fraction digits, as a JSON number or string. */
export const hourlyCostSchema = z
  .union([z.number(), z.string().check(z.maxLength(32))])
  .check(
    z.refine((v) => toMicros(v) !== null, {
      message: `must be a decimal from 0 to ${MAX_HOURLY_COST_UNITS} with at most 6 fraction digits, such as 0.096`,
    }),
  )
  .check(
    z.meta({
      description: 'Price per hour (a decimal ≥ 0, at most 6 fraction digits), such as 0.096 or "0.096"',
    }),
  );

/** An ISO 4217 currency code, upper case (USD, EUR, JPY). */
export const currencySchema = z
  .string()
  .check(z.refine(isCurrency, { message: 'must be an ISO 4217 currency code such as USD or EUR' }))
  .check(z.meta({ description: 'ISO 4217 currency code' }));

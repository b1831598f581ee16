/** Response schemas of the system routes. */

import { timestampSchema } from '../view';
import * as z from '../zod';

export const healthViewSchema = z.strictObject({
  status: z.literal('ok'),
  service: z.literal('buildstate'),
  time: timestampSchema,
});

export const readyViewSchema = z.strictObject({
  status: z.literal('ready'),
  checks: z.strictObject({ table: z.literal('ok') }),
});

const checkSchema = z.enum(['ok', 'unavailable', 'not_configured']);

/** GET /status (lib/status/status.ts). */
export const statusViewSchema = z.strictObject({
  status: z.enum(['ok', 'degraded']),
  service: z.literal('buildstate'),
  version: z.string(),
  time: timestampSchema,
  started_at: timestampSchema,
  uptime_s: z.number().check(z.int()).check(z.nonnegative()),
  checks: z.strictObject({ table: checkSchema, artifact_store: checkSchema }),
  builds: z.nullable(
    z.strictObject({
      total: z.number().check(z.int()),
      by_status: z.record(z.string(), z.number().check(z.int())),
      fanned_out: z
        .number()
        .check(z.int())
        .check(
          z.meta({
            description:
              'In-progress parents waiting on their children, counted in by_status.in_progress too: total = the sum of by_status',
          }),
        ),
    }),
  ),
  read_capacity_units: z.number().check(z.nonnegative()),
});

/** Response schemas of the system routes. */
import { z } from 'zod';
import { timestampSchema } from '../view';

export const healthViewSchema = z.strictObject({
  status: z.literal('ok'),
  service: z.literal('buildstate'),
  time: timestampSchema,
});

export const readyViewSchema = z.strictObject({
  status: z.literal('ready'),
  checks: z.strictObject({ table: z.literal('ok') }),
});

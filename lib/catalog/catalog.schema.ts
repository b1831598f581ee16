import * as z from 'zod';
import { stateCodeSchema } from '../builds/build.schema';
import { FINAL_STATE_CODE, MIN_STATE_CODE } from './state-catalog';

export const milestoneSchema = z.strictObject({
  code: stateCodeSchema,
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  description: z.string().max(2000, 'must be at most 2000 characters').default(''),
  category: z.string().trim().min(1).max(64, 'must be at most 64 characters').default('general'),
  expected_duration_s: z
    .number()
    .int()
    .min(1)
    .max(7 * 86400)
    .nullish()
    .transform((v) => v ?? null),
  max_attempts: z
    .number()
    .int()
    .min(1)
    .max(100)
    .nullish()
    .transform((v) => v ?? null),
});

const list = z
  .array(milestoneSchema)
  .max(101)
  .superRefine((items, ctx) => {
    const seen = new Set<number>();
    items.forEach((m, i) => {
      if (seen.has(m.code))
        ctx.addIssue({ code: 'custom', path: [i, 'code'], message: `code ${m.code} appears twice` });
      seen.add(m.code);
    });
    for (const required of [MIN_STATE_CODE, FINAL_STATE_CODE]) {
      if (!seen.has(required))
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `the catalog must name state ${required} (start and completion)`,
        });
    }
  })
  .transform((items) => [...items].sort((a, b) => a.code - b.code));

/**
 * PUT /projects/{id}/state-codes takes the list itself or `{"state_codes": [...]}` (what GET
 * returns). The object form is strict like every body: unknown fields are refused.
 */
export const putCatalogSchema = z.preprocess(
  (v) => (Array.isArray(v) ? { state_codes: v } : v),
  z.strictObject({ state_codes: list }).transform((body) => body.state_codes),
);

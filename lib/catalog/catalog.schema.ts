import * as z from '../zod';
import { FINAL_STATE_CODE, MAX_STATE_CODE, MIN_STATE_CODE } from './state-catalog';

/** A state code: an integer within the catalog's range (builds report and fork at these). */
export const stateCodeSchema = z
  .number({ error: 'must be an integer' })
  .check(z.int('must be an integer'))
  .check(z.gte(MIN_STATE_CODE, `must be between ${MIN_STATE_CODE} and ${MAX_STATE_CODE}`))
  .check(z.lte(MAX_STATE_CODE, `must be between ${MIN_STATE_CODE} and ${MAX_STATE_CODE}`));

export const milestoneSchema = z.strictObject({
  code: stateCodeSchema,
  name: z
    .string()
    .check(z.trim())
    .check(z.minLength(1, 'must not be empty'))
    .check(z.maxLength(200, 'must be at most 200 characters')),
  description: z._default(z.string().check(z.maxLength(2000, 'must be at most 2000 characters')), ''),
  category: z._default(
    z.string().check(z.trim()).check(z.minLength(1)).check(z.maxLength(64, 'must be at most 64 characters')),
    'general',
  ),
  expected_duration_s: z.pipe(
    z.nullish(
      z
        .number()
        .check(z.int())
        .check(z.gte(1))
        .check(z.lte(7 * 86400)),
    ),
    z.transform((v) => v ?? null),
  ),
  max_attempts: z.pipe(
    z.nullish(z.number().check(z.int()).check(z.gte(1)).check(z.lte(100))),
    z.transform((v) => v ?? null),
  ),
});

const list = z.pipe(
  z
    .array(milestoneSchema)
    .check(z.maxLength(101))
    .check(
      z.superRefine((items, ctx) => {
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
      }),
    ),
  z.transform((items) => [...items].sort((a, b) => a.code - b.code)),
);

/**
 * PUT /projects/{id}/state-codes takes the list itself or `{"state_codes": [...]}` (what GET
 * returns). The object form is strict like every body: unknown fields are refused.
 */
export const putCatalogSchema = z.pipe(
  z.transform((v) => (Array.isArray(v) ? { state_codes: v } : v)),
  z.pipe(
    z.strictObject({ state_codes: list }),
    z.transform((body) => body.state_codes),
  ),
);

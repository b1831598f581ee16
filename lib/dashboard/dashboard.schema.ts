import { referenceIdSchema } from '../builds/build.schema';
import * as z from '../zod';
import { COST_GROUPS } from './aggregates';

export const summaryQuerySchema = z.strictObject({
  active_limit: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(200)), 50),
});

export const durationsQuerySchema = z.strictObject({
  platform_id: z.optional(referenceIdSchema),
});

/** GET /dashboard/costs: since is a UTC day (YYYY-MM-DD) or a timestamp (its day counts whole). */
export const costsQuerySchema = z.strictObject({
  group_by: z._default(z.enum(COST_GROUPS), 'platform'),
  since: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/,
          'must be a day (YYYY-MM-DD) or an ISO 8601 timestamp',
        ),
      ),
  ),
});
export type CostsQuery = z.infer<typeof costsQuerySchema>;

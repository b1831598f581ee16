import { referenceIdSchema } from '../builds/build.schema';
import * as z from '../zod';

export const summaryQuerySchema = z.strictObject({
  active_limit: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(200)), 50),
});

export const durationsQuerySchema = z.strictObject({
  platform_id: z.optional(referenceIdSchema),
});

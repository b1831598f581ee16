import * as z from 'zod';
import { referenceIdSchema } from '../builds/build.schema';

export const summaryQuerySchema = z.strictObject({
  active_limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const durationsQuerySchema = z.strictObject({
  platform_id: referenceIdSchema.optional(),
});

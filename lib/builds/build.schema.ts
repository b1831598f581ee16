import * as z from 'zod';
import { MAX_STATE_CODE, MIN_STATE_CODE } from '../catalog/state-catalog';
import { ATTEMPT_STATUSES, BUILD_STATUSES } from './build.model';

export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_ERROR_CHARS = 8 * 1024;

export const buildIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
  );

/** Reference ids (project, platform, …) are slugs chosen by users, e.g. aws-commercial or rhel-9.3. */
export const referenceIdSchema = buildIdSchema;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const metadataSchema = z
  .record(z.string(), z.unknown())
  .refine((value) => Buffer.byteLength(JSON.stringify(value), 'utf8') <= MAX_METADATA_BYTES, {
    message: `must serialize to at most ${MAX_METADATA_BYTES} bytes of JSON`,
  });

export const createBuildSchema = z.strictObject({
  id: buildIdSchema.optional(),
  project_id: referenceIdSchema.default('default'),
  platform_id: referenceIdSchema,
  image_type_id: referenceIdSchema,
  os_version_id: referenceIdSchema.nullish(),
  build_number: z
    .union([text(64).min(1), z.number().int().nonnegative()])
    .transform((value) => String(value))
    .nullish(),
  description: text(2000).nullish(),
  metadata: metadataSchema.default({}),
});
export type CreateBuildInput = z.infer<typeof createBuildSchema>;

export const stateCodeSchema = z
  .number({ error: 'must be an integer' })
  .int('must be an integer')
  .min(MIN_STATE_CODE, `must be between ${MIN_STATE_CODE} and ${MAX_STATE_CODE}`)
  .max(MAX_STATE_CODE, `must be between ${MIN_STATE_CODE} and ${MAX_STATE_CODE}`);

export const stateReportSchema = z.strictObject({
  state_code: stateCodeSchema,
  status: z.enum(ATTEMPT_STATUSES),
  message: text(2000).nullish(),
  error: text(MAX_ERROR_CHARS).nullish(),
  worker_id: text(256).min(1).nullish(),
  metadata: metadataSchema.nullish(),
});
export type StateReportInput = z.infer<typeof stateReportSchema>;

export const cancelSchema = z.strictObject({
  reason: text(2000).min(1, 'must not be empty'),
});
export type CancelInput = z.infer<typeof cancelSchema>;

export const unblockSchema = z.strictObject({
  reason: text(2000).min(1, 'must not be empty'),
  additional_attempts: z.number().int().min(1).max(100).default(1),
});
export type UnblockInput = z.infer<typeof unblockSchema>;

export const listBuildsQuerySchema = z.strictObject({
  status: z.enum(BUILD_STATUSES).optional(),
  project_id: referenceIdSchema.optional(),
  platform_id: referenceIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
});
export type ListBuildsQuery = z.infer<typeof listBuildsQuerySchema>;

export const historyQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(2048).optional(),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

/** Requests and answers of the multipart upload routes (lib/http/artifacts.routes.ts). */
import { timestampSchema } from '../view';
import * as z from '../zod';
import { checksumSchema } from './artifact.schema';
import { presignedUploadSchema } from './artifact.view';
import { MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE } from './upload-plan';

/** A CRC32 as S3 headers carry it: 4 bytes big-endian in base64. */
export const crc32Schema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9+/]{6}==$/, 'must be a base64 CRC32 (4 bytes big-endian, 8 characters)'));

export const uploadIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9._~=+-]{1,512}$/, 'must be an upload id as the start call answered it'));

const partNumberSchema = z.number().check(z.int()).check(z.gte(1)).check(z.lte(MAX_PARTS));

/** The most parts one URL or confirmation call names. */
export const MAX_PARTS_PER_CALL = 100;

export const startUploadSchema = z.strictObject({
  size_bytes: z.number().check(z.int()).check(z.gt(0)).check(z.lte(MAX_OBJECT_SIZE)),
  checksum: checksumSchema,
  crc32: crc32Schema,
  part_size: z.number().check(z.int()).check(z.gte(MIN_PART_SIZE)).check(z.lte(MAX_PART_SIZE)),
  format: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/, 'must be a short format name')),
  ),
});
export type StartUploadInput = z.infer<typeof startUploadSchema>;

const partsOf = <T extends z.ZodMiniType>(item: T) =>
  z.array(item).check(z.minLength(1)).check(z.maxLength(MAX_PARTS_PER_CALL));

export const presignPartsSchema = z.strictObject({
  parts: partsOf(z.strictObject({ part_number: partNumberSchema, crc32: crc32Schema })),
});
export type PresignPartsInput = z.infer<typeof presignPartsSchema>;

export const confirmPartsSchema = z.strictObject({
  parts: partsOf(
    z.strictObject({
      part_number: partNumberSchema,
      etag: z.string().check(z.minLength(1)).check(z.maxLength(200)),
      crc32: crc32Schema,
    }),
  ),
});
export type ConfirmPartsInput = z.infer<typeof confirmPartsSchema>;

export const uploadViewSchema = z.strictObject({
  build_id: z.string(),
  state_code: z.int(),
  name: z.string(),
  upload_id: z.string(),
  status: z.enum(['open', 'completing', 'verified', 'failed', 'aborted']).check(
    z.meta({
      description:
        'open: parts are sent; completing: a job assembles and verifies it (poll this record); verified; failed (see reason); aborted',
    }),
  ),
  size_bytes: z.int(),
  checksum: z.string(),
  crc32: z.string(),
  part_size: z.int(),
  part_count: z.int(),
  confirmed_parts: z
    .array(z.int())
    .check(z.meta({ description: 'Part numbers S3 accepted and the client confirmed (sent again never)' })),
  resumed: z.boolean().check(z.meta({ description: 'True when this call continued an open upload' })),
  store_aborted: z.optional(
    z
      .boolean()
      .check(z.meta({ description: 'On abort: false when the object store could not abort (local mode)' })),
  ),
  lease_until: z.optional(
    timestampSchema.check(
      z.meta({
        description: 'While completing: after this, a completion asked again (or a poll) restarts the job',
      }),
    ),
  ),
  reason: z.optional(
    z
      .strictObject({ code: z.string(), message: z.string() })
      .check(z.meta({ description: 'When failed: S3 refused the assembly, or the object did not verify' })),
  ),
  created_at: timestampSchema,
  updated_at: timestampSchema,
});

export const partUrlsSchema = z.strictObject({
  upload_id: z.string(),
  urls: z.array(z.extend(presignedUploadSchema, { part_number: z.int(), size_bytes: z.int() })),
});

import * as z from 'zod';
import { metadataSchema } from '../builds/build.schema';
import { STORAGE_TYPES } from './artifact.model';

export const CHECKSUM_PATTERN = /^sha256:[0-9a-f]{64}$/;

/**
 * A safe file name: it becomes the last segment of an S3 key and of download paths, so no
 * slashes, no leading dot (no `.`/`..`), no control or shell-hostile characters.
 */
export const artifactNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/,
    'must be a file name of 1-200 characters: letters, digits and . _ + - (no slashes), starting with a letter or digit',
  );

export const checksumSchema = z
  .string()
  .transform((value) => value.toLowerCase())
  .pipe(z.string().regex(CHECKSUM_PATTERN, 'must be sha256:<64 hex digits>'));

export const registerArtifactSchema = z
  .strictObject({
    name: artifactNameSchema,
    storage_type: z.enum(STORAGE_TYPES),
    uri: z.string().min(1).max(1024).optional(),
    size_bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    checksum: checksumSchema.optional(),
    format: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/,
        'must be a short format name such as qcow2, vmdk, raw, ova',
      )
      .optional(),
    metadata: metadataSchema.optional(),
  })
  .refine((a) => a.storage_type === 's3' || a.uri !== undefined, {
    message: 'uri is required for storage types other than s3 (BuildState manages only s3 uploads)',
    path: ['uri'],
  })
  .refine((a) => a.uri === undefined || /^[a-z][a-z0-9+.-]*:\/\/\S+$|^\/\S*$/i.test(a.uri), {
    message: 'must be an absolute URI (s3://…, nfs://…, https://…) or an absolute path',
    path: ['uri'],
  });
export type RegisterArtifactInput = z.infer<typeof registerArtifactSchema>;

/** What a worker observed when it fetched an artifact the service cannot reach itself. */
export const verifyArtifactSchema = z
  .strictObject({
    checksum: checksumSchema.optional(),
    size_bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .default({});
export type VerifyArtifactInput = z.infer<typeof verifyArtifactSchema>;

export const stateCodeParamSchema = z.coerce.number().int().min(0).max(100);

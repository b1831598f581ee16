/** Response schemas of the artifact routes (ArtifactService builds these objects). */
import * as z from 'zod';
import { metadataViewSchema, timestampSchema } from '../view';
import { STORAGE_TYPES } from './artifact.model';

export const presignedUploadSchema = z.strictObject({
  url: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()).meta({
    description: 'Headers the upload must carry exactly (they are part of the signature)',
  }),
  expires_at: timestampSchema,
  curl: z.string().meta({ description: 'The same upload as one shell command' }),
});

export const presignedDownloadSchema = z.strictObject({ url: z.string(), expires_at: timestampSchema });

export const artifactViewSchema = z.strictObject({
  build_id: z.string(),
  state_code: z.int(),
  state_name: z.string().nullable(),
  name: z.string(),
  storage_type: z.enum(STORAGE_TYPES),
  managed: z.boolean().meta({ description: 'True when BuildState holds the bytes (presigned upload)' }),
  uri: z.string(),
  bucket: z.string(),
  object_key: z.string(),
  size_bytes: z.int().nullable(),
  checksum: z.string().nullable().meta({ description: 'sha256:<64 hex digits>' }),
  format: z.string().nullable(),
  metadata: metadataViewSchema,
  verified: z.boolean(),
  verified_at: timestampSchema.nullable(),
  created_by: z.string(),
  created_at: timestampSchema,
  upload: presignedUploadSchema
    .optional()
    .meta({ description: 'On registration of a managed artifact not yet verified' }),
  download: presignedDownloadSchema.optional().meta({ description: 'Managed artifacts, on get and verify' }),
});
export type ArtifactView = z.infer<typeof artifactViewSchema>;

export const artifactListSchema = z.strictObject({
  build_id: z.string(),
  states: z.array(
    z.strictObject({
      state_code: z.int(),
      state_name: z.string().nullable(),
      artifacts: z.array(artifactViewSchema),
    }),
  ),
});

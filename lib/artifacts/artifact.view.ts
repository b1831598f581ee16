/** Response schemas of the artifact routes (ArtifactService builds these objects). */

import { metadataViewSchema, timestampSchema } from '../view';
import * as z from '../zod';
import { STORAGE_TYPES } from './artifact.model';

export const presignedUploadSchema = z.strictObject({
  url: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()).check(
    z.meta({
      description: 'Headers the upload must carry exactly (they are part of the signature)',
    }),
  ),
  expires_at: timestampSchema,
  curl: z.string().check(z.meta({ description: 'The same upload as one shell command' })),
});

export const presignedDownloadSchema = z.strictObject({ url: z.string(), expires_at: timestampSchema });

export const artifactViewSchema = z.strictObject({
  build_id: z.string(),
  state_code: z.int(),
  state_name: z.nullable(z.string()),
  name: z.string(),
  storage_type: z.enum(STORAGE_TYPES),
  managed: z
    .boolean()
    .check(z.meta({ description: 'True when BuildState holds the bytes (presigned upload)' })),
  uri: z.string(),
  bucket: z.string(),
  object_key: z.string(),
  size_bytes: z.nullable(z.int()),
  checksum: z.nullable(z.string()).check(z.meta({ description: 'sha256:<64 hex digits>' })),
  format: z.nullable(z.string()),
  metadata: metadataViewSchema,
  verified: z.boolean(),
  verified_at: z.nullable(timestampSchema),
  created_by: z.string(),
  created_at: timestampSchema,
  upload: z
    .optional(presignedUploadSchema)
    .check(z.meta({ description: 'On registration of a managed artifact not yet verified' })),
  download: z
    .optional(presignedDownloadSchema)
    .check(z.meta({ description: 'Managed artifacts, on get and verify' })),
});
export type ArtifactView = z.infer<typeof artifactViewSchema>;

export const artifactListSchema = z.strictObject({
  build_id: z.string(),
  states: z.array(
    z.strictObject({
      state_code: z.int(),
      state_name: z.nullable(z.string()),
      artifacts: z.array(artifactViewSchema),
    }),
  ),
});

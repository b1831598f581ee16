/** Public representations of images, lineage, channels and revocations (strict: the OpenAPI document's). */
import { BUILD_STATUSES } from '../builds/build.model';
import { metadataViewSchema, pageSchema, timestampSchema } from '../view';
import * as z from '../zod';

export const imageViewSchema = z.strictObject({
  build_id: z.string(),
  cloud: z.string(),
  region: z.string(),
  image_id: z.string(),
  name: z.nullable(z.string()),
  account: z.nullable(z.string()),
  metadata: metadataViewSchema,
  published_at: timestampSchema,
  published_by: z.string(),
});
export type ImageView = z.infer<typeof imageViewSchema>;

export const imageListSchema = z.strictObject({ build_id: z.string(), items: z.array(imageViewSchema) });

/** One build of a lineage: how it descends, its status, and whether it is revoked. */
export const lineageNodeSchema = z.strictObject({
  build_id: z.string(),
  parent_id: z.nullable(z.string()),
  base_build_id: z.nullable(z.string()),
  status: z.enum(BUILD_STATUSES),
  revoked_at: z.nullable(timestampSchema),
  revoked_reason: z.nullable(z.string()),
});
export type LineageNode = z.infer<typeof lineageNodeSchema>;

export const lineageViewSchema = z.strictObject({
  build_id: z.string(),
  ancestors: z
    .array(lineageNodeSchema)
    .check(z.meta({ description: 'Every ancestor (fork parents and bases, transitively), nearest first' })),
  descendants: z.array(lineageNodeSchema).check(
    z.meta({
      description: 'A page of every descendant (fork children and builds on it as base, transitively), by id',
    }),
  ),
  next_cursor: z.nullable(z.string()),
});

export const channelViewSchema = z.strictObject({
  name: z.string(),
  build_id: z.string(),
  images: z.array(imageViewSchema).check(
    z.meta({
      description: "The build's images and, for a fan-out parent, its children's (one with ?cloud=&region=)",
    }),
  ),
  assigned_at: timestampSchema,
  assigned_by: z.string(),
  reason: z.nullable(z.string()),
  version: z.int().check(z.meta({ description: 'Number of assignments so far (the latest history entry)' })),
});
export type ChannelView = z.infer<typeof channelViewSchema>;

export const channelSummarySchema = z.strictObject({
  name: z.string(),
  build_id: z.string(),
  assigned_at: timestampSchema,
  assigned_by: z.string(),
  version: z.int(),
});
export const channelListSchema = pageSchema(channelSummarySchema);

export const channelHistoryEntrySchema = z.strictObject({
  name: z.string(),
  version: z.int(),
  build_id: z.string(),
  previous_build_id: z.nullable(z.string()),
  reason: z.nullable(z.string()),
  assigned_at: timestampSchema,
  assigned_by: z.string(),
});
export const channelHistorySchema = z.strictObject({
  name: z.string(),
  items: z.array(channelHistoryEntrySchema),
  next_cursor: z.nullable(z.string()),
});

export const revocationViewSchema = z.strictObject({
  build_id: z.string(),
  revocation_id: z.string(),
  root_id: z.string().check(z.meta({ description: 'The build this revocation was asked for' })),
  reason: z.string(),
  revoked_at: timestampSchema,
  revoked_by: z.string(),
  descendants: z.int().check(z.meta({ description: 'Descendants of the build, all revoked now' })),
  newly_revoked: z
    .int()
    .check(z.meta({ description: 'Builds this call marked (the build itself included)' })),
  already_revoked: z.int().check(z.meta({ description: 'Builds that were revoked before this call' })),
});

export const restoreViewSchema = z.strictObject({
  build_id: z.string(),
  revocation_id: z
    .nullable(z.string())
    .check(z.meta({ description: 'The revocation undone; null if the build was not revoked' })),
  restored: z.int().check(z.meta({ description: 'Builds this call restored (the build itself included)' })),
  still_revoked: z.int().check(
    z.meta({
      description: 'Descendants that stay revoked: by another revocation of theirs or of another ancestor',
    }),
  ),
});

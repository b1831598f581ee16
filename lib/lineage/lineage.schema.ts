/** Request schemas of images, lineage, channels and revocation (zod; types by z.infer). */
import { buildIdSchema, metadataSchema } from '../builds/build.schema';
import * as z from '../zod';

const text = (max: number) => z.string().check(z.maxLength(max, `must be at most ${max} characters`));
const pattern = (re: RegExp, message: string) => z.string().check(z.regex(re, message));

/** A cloud name as a slug: aws, azure, gcp, openstack, vsphere … */
export const cloudSchema = pattern(
  /^[a-z0-9][a-z0-9-]{0,31}$/,
  'must be 1-32 characters of a-z 0-9 - (a cloud such as aws, azure, gcp, openstack)',
);
/** A region or location (us-east-1, westeurope, europe-west1, RegionOne, global). */
export const regionSchema = pattern(
  /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
  'must be 1-64 characters of A-Z a-z 0-9 . _ : - (a region such as us-east-1)',
);
/** An image id: an AMI id, an Azure image version's resource id, a GCE image name, a Glance id. */
export const imageIdSchema = pattern(
  /^[A-Za-z0-9/][A-Za-z0-9._:/@+=-]{0,511}$/,
  'must be 1-512 characters of A-Z a-z 0-9 . _ : / @ + = - starting with a letter, digit or / (an image id such as ami-0abc…)',
);

export const imageInputSchema = z.strictObject({
  cloud: cloudSchema,
  region: regionSchema,
  image_id: imageIdSchema,
  name: z.nullish(text(256).check(z.minLength(1))),
  account: z.nullish(text(128).check(z.minLength(1))),
  metadata: z._default(metadataSchema, {}),
});
export type ImageInput = z.infer<typeof imageInputSchema>;

/** A channel name is a slug: lowercase letters, digits, `.`, `_`, `-` (rhel9-base-prod). */
export const channelNameSchema = pattern(
  /^[a-z0-9][a-z0-9._-]{0,99}$/,
  'must be a slug: 1-100 characters of a-z 0-9 . _ - starting with a letter or digit',
);

export const channelSetSchema = z.strictObject({
  build_id: buildIdSchema,
  reason: z.nullish(text(2000).check(z.minLength(1, 'must not be empty'))),
});
export type ChannelSetInput = z.infer<typeof channelSetSchema>;

export const channelGetQuerySchema = z.strictObject({
  cloud: z.optional(cloudSchema),
  region: z.optional(regionSchema),
});
export type ChannelGetQuery = z.infer<typeof channelGetQuerySchema>;

const limit = (max: number, fallback: number) =>
  z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(max)), fallback);
const cursor = z.optional(z.string().check(z.maxLength(2048)));

export const channelHistoryQuerySchema = z.strictObject({ limit: limit(500, 100), cursor });
export type ChannelHistoryQuery = z.infer<typeof channelHistoryQuerySchema>;

export const lineageQuerySchema = z.strictObject({ limit: limit(1000, 100), cursor });
export type LineageQuery = z.infer<typeof lineageQuerySchema>;

export const revokeSchema = z.strictObject({
  reason: text(2000).check(z.minLength(1, 'must not be empty')),
});
export type RevokeInput = z.infer<typeof revokeSchema>;

export const restoreSchema = z.strictObject({
  reason: z.nullish(text(2000).check(z.minLength(1, 'must not be empty'))),
});
export type RestoreInput = z.infer<typeof restoreSchema>;

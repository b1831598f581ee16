/** Response schemas of the reference-data and state-catalog routes (ReferenceService builds these). */

import { pageSchema, timestampSchema } from '../view';
import * as z from '../zod';
import { CLOUD_PROVIDERS, type ReferenceType } from './reference.model';

const SPECIFIC = {
  project: {},
  platform: {
    cloud_provider: z.enum(CLOUD_PROVIDERS),
    region: z.nullable(z.string()),
    partition: z.nullable(z.string()),
    hourly_cost: z.nullable(z.string()).check(
      z.meta({
        description:
          'Price of an hour on this platform, a decimal string with 6 fraction digits; null when not priced',
      }),
    ),
    currency: z.string().check(z.meta({ description: 'ISO 4217 code of hourly_cost (default USD)' })),
  },
  os_version: {},
  image_type: {},
} as const;

const build = (type: ReferenceType) =>
  z.strictObject({
    id: z.string(),
    kind: z.literal(type),
    name: z.string(),
    description: z.nullable(z.string()),
    ...SPECIFIC[type],
    active: z.boolean().check(z.meta({ description: 'False once deactivated (soft delete)' })),
    ...(type === 'os_version'
      ? {
          version: z.nullable(z.string()).check(z.meta({ description: 'The release, such as 22.04' })),
          revision: z.int().check(z.meta({ description: 'Incremented by every change; the ETag' })),
        }
      : { version: z.int().check(z.meta({ description: 'Incremented by every change; the ETag' })) }),
    created_at: timestampSchema,
    created_by: z.string(),
    updated_at: timestampSchema,
    updated_by: z.string(),
    deactivated_at: z.nullable(timestampSchema),
    deactivated_by: z.nullable(z.string()),
  });

const VIEWS = {
  project: build('project'),
  platform: build('platform'),
  os_version: build('os_version'),
  image_type: build('image_type'),
};
const PAGES = {
  project: pageSchema(VIEWS.project),
  platform: pageSchema(VIEWS.platform),
  os_version: pageSchema(VIEWS.os_version),
  image_type: pageSchema(VIEWS.image_type),
};

/** One schema object per kind, so the document names each once. */
export const referenceViewSchema = (type: ReferenceType) => VIEWS[type];
export const referencePageSchema = (type: ReferenceType) => PAGES[type];

export const catalogViewSchema = z.strictObject({
  project_id: z.string(),
  version: z.int(),
  updated_at: z.nullable(timestampSchema),
  updated_by: z.nullable(z.string()),
  state_codes: z.array(
    z.strictObject({
      code: z.int(),
      name: z.string(),
      description: z.string(),
      category: z.string(),
      expected_duration_s: z.nullable(z.int()),
      max_attempts: z.nullable(z.int()),
    }),
  ),
});

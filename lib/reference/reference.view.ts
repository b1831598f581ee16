/** Response schemas of the reference-data and state-catalog routes (ReferenceService builds these). */
import * as z from 'zod';
import { pageSchema, timestampSchema } from '../view';
import { CLOUD_PROVIDERS, type ReferenceType } from './reference.model';

const SPECIFIC = {
  project: {},
  platform: {
    cloud_provider: z.enum(CLOUD_PROVIDERS),
    region: z.string().nullable(),
    partition: z.string().nullable(),
  },
  os_version: {},
  image_type: {},
} as const;

const build = (type: ReferenceType) =>
  z.strictObject({
    id: z.string(),
    kind: z.literal(type),
    name: z.string(),
    description: z.string().nullable(),
    ...SPECIFIC[type],
    active: z.boolean().meta({ description: 'False once deactivated (soft delete)' }),
    ...(type === 'os_version'
      ? {
          version: z.string().nullable().meta({ description: 'The release, such as 22.04' }),
          revision: z.int().meta({ description: 'Incremented by every change; the ETag' }),
        }
      : { version: z.int().meta({ description: 'Incremented by every change; the ETag' }) }),
    created_at: timestampSchema,
    created_by: z.string(),
    updated_at: timestampSchema,
    updated_by: z.string(),
    deactivated_at: timestampSchema.nullable(),
    deactivated_by: z.string().nullable(),
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
  updated_at: timestampSchema.nullable(),
  updated_by: z.string().nullable(),
  state_codes: z.array(
    z.strictObject({
      code: z.int(),
      name: z.string(),
      description: z.string(),
      category: z.string(),
      expected_duration_s: z.int().nullable(),
      max_attempts: z.int().nullable(),
    }),
  ),
});

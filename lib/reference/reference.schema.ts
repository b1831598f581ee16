import * as z from 'zod';
import { referenceIdSchema } from '../builds/build.schema';
import { CLOUD_PROVIDERS, type ReferenceType } from './reference.model';

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const description = z.string().max(2000, 'must be at most 2000 characters').nullish();
const shortText = z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters');

/** Fields each kind has besides id, name and description. */
const SPECIFIC = {
  project: {},
  platform: {
    cloud_provider: z.enum(CLOUD_PROVIDERS),
    /** e.g. us-east-1, westeurope; null for providers without regions. */
    region: shortText.nullish(),
    /** e.g. aws-govcloud, aws-china, azure-government; null for the provider's commercial partition. */
    partition: shortText.nullish(),
  },
  os_version: { version: shortText },
  image_type: {},
} as const;

const TYPES: readonly ReferenceType[] = ['project', 'platform', 'os_version', 'image_type'];
/** One schema object per kind, so the route table and the handlers hold the very same one. */
const perType = <S>(make: (type: ReferenceType) => S): ((type: ReferenceType) => S) => {
  const made = new Map(TYPES.map((t) => [t, make(t)]));
  return (type) => made.get(type)!;
};

export const createReferenceSchema = perType((type) =>
  z.strictObject({ id: referenceIdSchema.optional(), name, description, ...SPECIFIC[type] }),
);

/** PUT replaces the fields it names and keeps the others; the id never changes. */
export const updateReferenceSchema = perType((type) =>
  z
    .strictObject({ name, description, ...SPECIFIC[type] })
    .partial()
    .refine((v) => Object.keys(v).length > 0, { message: 'name at least one field to change' }),
);

export const listReferenceQuerySchema = z.strictObject({
  include_deactivated: z.enum(['true', 'false']).default('false'),
  limit: z.coerce.number().int().min(1).max(100).default(100),
  cursor: z.string().max(2048).optional(),
});
export type ListReferenceQuery = z.infer<typeof listReferenceQuerySchema>;

export { slugFor } from './slug';

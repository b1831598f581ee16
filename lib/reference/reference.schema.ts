import { referenceIdSchema } from '../builds/build.schema';
import { currencySchema, hourlyCostSchema } from '../cost/cost.schema';
import * as z from '../zod';
import { CLOUD_PROVIDERS, type ReferenceType } from './reference.model';

const name = z
  .string()
  .check(z.trim())
  .check(z.minLength(1, 'must not be empty'))
  .check(z.maxLength(200, 'must be at most 200 characters'));
const description = z.nullish(z.string().check(z.maxLength(2000, 'must be at most 2000 characters')));
const shortText = z
  .string()
  .check(z.trim())
  .check(z.minLength(1, 'must not be empty'))
  .check(z.maxLength(64, 'must be at most 64 characters'));

/** Fields each kind has besides id, name and description. */
const SPECIFIC = {
  project: {},
  platform: {
    cloud_provider: z.enum(CLOUD_PROVIDERS),
    /** e.g. us-east-1, westeurope; null for providers without regions. */
    region: z.nullish(shortText),
    /** e.g. aws-govcloud, aws-china, azure-government; null for the provider's commercial partition. */
    partition: z.nullish(shortText),
    /** What an hour of a worker on this platform costs (null: not priced); lib/cost. */
    hourly_cost: z.nullish(hourlyCostSchema),
    /** The currency of hourly_cost and of every cost of its builds (default USD). */
    currency: z.optional(currencySchema),
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
  z.strictObject({ id: z.optional(referenceIdSchema), name, description, ...SPECIFIC[type] }),
);

/** PUT replaces the fields it names and keeps the others; the id never changes. */
export const updateReferenceSchema = perType((type) =>
  z
    .partial(z.strictObject({ name, description, ...SPECIFIC[type] }))
    .check(z.refine((v) => Object.keys(v).length > 0, { message: 'name at least one field to change' })),
);

export const listReferenceQuerySchema = z.strictObject({
  include_deactivated: z._default(z.enum(['true', 'false']), 'false'),
  limit: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(100)), 100),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});
export type ListReferenceQuery = z.infer<typeof listReferenceQuerySchema>;

export { slugFor } from './slug';

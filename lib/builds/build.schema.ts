import { stateCodeSchema } from '../catalog/catalog.schema';
import { MAX_STATE_CODE } from '../catalog/state-catalog';
import { hourlyCostSchema } from '../cost/cost.schema';
import * as z from '../zod';
import { ATTEMPT_STATUSES, BUILD_STATUSES, REPORTED_ERROR_CODES } from './build.model';

export const MAX_METADATA_BYTES = 16 * 1024;
export const MAX_ERROR_CHARS = 8 * 1024;

export const buildIdSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
      'must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
    ),
  );

/** Reference ids (project, platform, …) are slugs chosen by users, e.g. aws-commercial or rhel-9.3. */
export const referenceIdSchema = buildIdSchema;

const text = (max: number) => z.string().check(z.maxLength(max, `must be at most ${max} characters`));

/**
 * DynamoDB nests at most 32 levels counting the item itself, and `metadata` is an attribute of
 * the item: metadata and the objects and arrays inside it may nest 31 deep.
 */
export const MAX_METADATA_DEPTH = 31;
/** DynamoDB numbers reach 1e-130..9.99e125; the SDK refuses integers past 2^53 - 1 (they come back as BigInt). */
const MIN_MAGNITUDE = 1e-130;
/** Keys that would reach an object's prototype when code copies metadata with assignment. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Half of a surrogate pair on its own: it has no UTF-8 form, so the store would keep U+FFFD instead. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Metadata is kept as given and given back unchanged, so it holds only what the store keeps
 * exactly: finite numbers within DynamoDB's range and 2^53 - 1, non-empty well-formed keys, no
 * prototype keys, well-formed strings, nesting within the store's limit. Anything else is a 400
 * naming the path, before the store is asked.
 */
export const metadataSchema = z.pipe(
  z
    .unknown()
    // What the document shows; the refinement below is the full rule (zod cannot express it).
    .check(
      z.meta({
        type: 'object',
        additionalProperties: true,
        description:
          'Free-form JSON object: non-empty keys, no __proto__/constructor/prototype, nesting within 31 levels, numbers exact in JSON and within ±(2^53-1)',
      }),
    )
    .check(
      z.superRefine((value, ctx) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
          return;
        }
        for (const issue of metadataIssues(value)) ctx.addIssue({ code: 'custom', ...issue });
      }),
    ),
  z.transform((value) => value as Record<string, unknown>),
);

function metadataIssues(root: object): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const visit = (value: unknown, path: (string | number)[], depth: number): void => {
    if (issues.length >= 20) return;
    if (typeof value === 'number') {
      const magnitude = Math.abs(value);
      if (!Number.isFinite(value)) issues.push({ path, message: 'must be a finite number' });
      else if (magnitude > Number.MAX_SAFE_INTEGER)
        issues.push({
          path,
          message: `numbers must be within ±${Number.MAX_SAFE_INTEGER}; send larger ones as strings`,
        });
      else if (magnitude !== 0 && magnitude < MIN_MAGNITUDE)
        issues.push({ path, message: `numbers must be 0 or at least ${MIN_MAGNITUDE} in magnitude` });
      return;
    }
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value))
        issues.push({ path, message: 'must be well-formed Unicode (no lone surrogates)' });
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (depth > MAX_METADATA_DEPTH) {
      issues.push({ path, message: `nests deeper than ${MAX_METADATA_DEPTH} levels (objects and arrays)` });
      return;
    }
    if (Array.isArray(value)) {
      for (const [n, v] of value.entries()) visit(v, [...path, n], depth + 1);
      return;
    }
    for (const key of Object.keys(value)) {
      if (key === '') issues.push({ path: [...path, key], message: 'keys must not be empty' });
      else if (FORBIDDEN_KEYS.has(key))
        issues.push({ path: [...path, key], message: `'${key}' is not allowed as a key` });
      else if (LONE_SURROGATE.test(key))
        issues.push({ path: [...path, key], message: 'keys must be well-formed Unicode' });
      else visit((value as Record<string, unknown>)[key], [...path, key], depth + 1);
    }
  };
  visit(root, [], 1);
  if (issues.length === 0 && Buffer.byteLength(JSON.stringify(root), 'utf8') > MAX_METADATA_BYTES)
    issues.push({ path: [], message: `must serialize to at most ${MAX_METADATA_BYTES} bytes of JSON` });
  return issues;
}

export const createBuildSchema = z.strictObject({
  id: z.optional(buildIdSchema),
  project_id: z._default(referenceIdSchema, 'default'),
  platform_id: referenceIdSchema,
  image_type_id: referenceIdSchema,
  os_version_id: z.nullish(referenceIdSchema),
  build_number: z.nullish(
    z.pipe(
      z.union([text(64).check(z.minLength(1)), z.number().check(z.int()).check(z.nonnegative())]),
      z.transform((value) => String(value)),
    ),
  ),
  description: z.nullish(text(2000)),
  metadata: z._default(metadataSchema, {}),
  /** The build whose image or artifact this one starts from: it must exist and not be revoked. */
  base_build_id: z.nullish(buildIdSchema),
});
export type CreateBuildInput = z.infer<typeof createBuildSchema>;

export const MAX_FORK_CHILDREN = 100;

/** One child of a fork: its own fields; the project is the parent's, image type and OS version default to the parent's. */
export const forkChildSchema = z.strictObject({
  id: z.optional(buildIdSchema),
  platform_id: referenceIdSchema,
  image_type_id: z.optional(referenceIdSchema),
  os_version_id: z.nullish(referenceIdSchema),
  build_number: createBuildSchema.shape.build_number,
  description: z.nullish(text(2000)),
  metadata: z._default(metadataSchema, {}),
});
export type ForkChildInput = z.infer<typeof forkChildSchema>;

export const stateReportSchema = z.strictObject({
  state_code: stateCodeSchema,
  status: z.enum(ATTEMPT_STATUSES),
  message: z.nullish(text(2000)),
  error: z.nullish(text(MAX_ERROR_CHARS)),
  /** With `failed` only: `interrupted` (the worker stopped the step; not counted toward max_attempts). */
  error_code: z.nullish(z.enum(REPORTED_ERROR_CODES)),
  worker_id: z.nullish(text(256).check(z.minLength(1))),
  /** The worker's own price per hour (its instance's), in the platform's currency: wins over the platform's for this attempt. */
  hourly_cost: z.optional(hourlyCostSchema),
  metadata: z.nullish(metadataSchema),
});
export type StateReportInput = z.infer<typeof stateReportSchema>;

export const forkSchema = z
  .strictObject({
    at_state: stateCodeSchema.check(
      z.lte(MAX_STATE_CODE - 1, `must be below ${MAX_STATE_CODE}: a fork continues after it`),
    ),
    children: z
      .array(forkChildSchema)
      .check(z.minLength(1, 'must name at least one child'))
      .check(z.maxLength(MAX_FORK_CHILDREN, `must name at most ${MAX_FORK_CHILDREN} children`)),
  })
  .check(
    z.superRefine((value, ctx) => {
      const seen = new Set<string>();
      for (const [n, child] of value.children.entries()) {
        if (child.id === undefined) continue;
        if (seen.has(child.id))
          ctx.addIssue({ code: 'custom', path: ['children', n, 'id'], message: 'is given twice' });
        seen.add(child.id);
      }
    }),
  );
export type ForkInput = z.infer<typeof forkSchema>;

export const childrenQuerySchema = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(100)), 25),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});
export type ChildrenQuery = z.infer<typeof childrenQuerySchema>;

export const cancelSchema = z.strictObject({
  reason: text(2000).check(z.minLength(1, 'must not be empty')),
});
export type CancelInput = z.infer<typeof cancelSchema>;

export const unblockSchema = z.strictObject({
  reason: text(2000).check(z.minLength(1, 'must not be empty')),
  additional_attempts: z._default(z.number().check(z.int()).check(z.gte(1)).check(z.lte(100)), 1),
});
export type UnblockInput = z.infer<typeof unblockSchema>;

export const listBuildsQuerySchema = z.strictObject({
  status: z.optional(z.enum(BUILD_STATUSES)),
  project_id: z.optional(referenceIdSchema),
  platform_id: z.optional(referenceIdSchema),
  parent_id: z.optional(buildIdSchema),
  limit: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(100)), 25),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});
export type ListBuildsQuery = z.infer<typeof listBuildsQuerySchema>;

export const historyQuerySchema = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int()).check(z.gte(1)).check(z.lte(500)), 100),
  cursor: z.optional(z.string().check(z.maxLength(2048))),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

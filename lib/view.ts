/**
 * Building blocks of the response schemas (lib/<area>/*.view.ts). Responses are described with
 * zod like requests are, so the OpenAPI document (lib/http/openapi.ts) comes from the same code;
 * view objects are strict: a field the schema does not name is a contract change.
 */

import { ERROR_CODES } from './errors';
import * as z from './zod';

/** An ISO 8601 UTC timestamp as `Date.prototype.toISOString` writes it. */
export const timestampSchema = z.iso.datetime().check(z.meta({ description: 'ISO 8601 UTC timestamp' }));

/** Free-form JSON metadata a caller attached (at most 16 KiB serialised). */
export const metadataViewSchema = z.record(z.string(), z.unknown());

/** The one error body every 4xx and 5xx answer carries. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(ERROR_CODES as [string, ...string[]]).check(
      z.meta({
        description: 'Stable machine-readable code; docs/API.md explains each',
      }),
    ),
    message: z.string().check(z.meta({ description: 'What went wrong, for people' })),
    details: z
      .record(z.string(), z.unknown())
      .check(z.meta({ description: 'Facts about the failure, by code' })),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** A page of a list: the items and an opaque cursor for the next page (null on the last). */
export const pageSchema = <T extends z.ZodMiniType>(item: T) =>
  z.strictObject({ items: z.array(item), next_cursor: z.nullable(z.string()) });

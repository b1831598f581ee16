/**
 * Path parameters several groups' routes share, declared once: the domain's schema, and how a bad
 * value is named in the 400. Part of the route table (the *.routes.ts files use them); the HTTP
 * wrapper (handler.ts) reads them from the route it serves and imports no domain schema itself.
 */
import { artifactNameSchema, stateCodeParamSchema } from '../artifacts/artifact.schema';
import { buildIdSchema } from '../builds/build.schema';
import type { PathParam } from './route';

export const BUILD_ID: PathParam = { schema: buildIdSchema, expected: 'a valid build id' };

/** Digits only: the schema coerces, and would also take `1e1` or ` 5`. */
export const STATE_CODE: PathParam = {
  schema: stateCodeParamSchema,
  expected: 'a state code (an integer 0-100)',
  text: /^\d{1,3}$/,
};

export const ARTIFACT_NAME: PathParam = { schema: artifactNameSchema, expected: 'a valid artifact name' };

/** `{id}`: a build. */
export const BUILD_PATH = { id: BUILD_ID } as const;

/**
 * What a route is (lib/http/routes.ts lists them all; each function group's routes are in
 * lib/http/<group>.routes.ts, so a function bundles only its own routes' schemas). Plain values:
 * dispatch() binds each route of its group to its handler at cold start.
 */

import type { ErrorCode } from '../errors';
import type { OutcomeKind } from '../outcome';
import type * as z from '../zod';

export type FunctionGroup =
  | 'system'
  | 'builds'
  | 'states'
  | 'artifacts'
  | 'identity'
  | 'oidc'
  | 'reference'
  | 'dashboard'
  | 'lineage'
  | 'provenance';
/**
 * The scope a caller needs: `admin` ⊃ `write` ⊃ `read`. `none` routes run without credentials.
 * docs/API.md lists every route with its scope (a unit test keeps the two equal).
 */
export type RouteScope = 'none' | 'read' | 'write' | 'admin';

/** Request headers some routes read (lib/http/handler.ts parses them). */
export type RequestHeader = 'Idempotency-Key' | 'If-Match' | 'X-Lease-Id';
/**
 * X-Lease-Id: a lease id as POST /builds/{id}/lease hands it out (a ULID). The header's contract,
 * as the OpenAPI document states it; a unit test keeps it equal to the leases' own schema.
 */
export const LEASE_ID_HEADER_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** Response headers the document describes. */
export type ResponseHeader = 'ETag' | 'Location' | 'Idempotent-Replayed' | 'Cache-Control';

/**
 * A path parameter as a route declares it, when a bare schema is not enough: how a bad value is
 * named in the 400 (`'x' is not <expected>`) and what its text must look like before the schema
 * reads it (a coerced number would take `1e1`).
 */
export interface PathParam {
  schema: z.ZodMiniType;
  /** e.g. `a valid build id`; `a valid <name>` when absent. */
  expected?: string;
  text?: RegExp;
}

/** The declaration of one path parameter, a bare schema or a PathParam, as a PathParam. */
export const pathParamOf = (declared: z.ZodMiniType | PathParam): PathParam =>
  'schema' in declared ? declared : { schema: declared };

export interface RouteRequest {
  /** One schema (or PathParam) per `{name}` of the path: handlers read each through it. */
  path?: Readonly<Record<string, z.ZodMiniType | PathParam>>;
  /** An object schema of the query string parameters. */
  query?: z.ZodMiniType;
  /** The JSON body. */
  body?: z.ZodMiniType;
  /** The body may be left out (then the handler uses `{}` or the headers). */
  bodyOptional?: boolean;
  headers?: readonly RequestHeader[];
}

export interface RouteResponse {
  description: string;
  /** The JSON body; absent when `contentType` names another media type. */
  schema?: z.ZodMiniType;
  contentType?: 'text/html' | 'text/css' | 'text/javascript' | 'application/x-pem-file';
  headers?: readonly ResponseHeader[];
  /**
   * The use case's outcome (lib/outcome.ts) this status answers. A result whose outcome no
   * response of its route names is the route's plain answer, 200.
   */
  outcome?: OutcomeKind;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  group: FunctionGroup;
  /** Name of the handler inside its group (functions/<group>/index.ts exports them by this name). */
  handler: string;
  /** The OpenAPI operationId, when two routes share a handler (an alias); else the handler name. */
  operationId?: string;
  scope: RouteScope;
  summary: string;
  request?: RouteRequest;
  /** Successful answers by status. Errors are the common ones (lib/http/openapi.ts) plus `errors`. */
  responses: Readonly<Record<number, RouteResponse>>;
  /** Error codes this route answers besides the common ones (validation, auth, outage). */
  errors?: readonly ErrorCode[];
}

export const ok = (
  description: string,
  schema: z.ZodMiniType,
  headers?: readonly ResponseHeader[],
): RouteResponse => ({
  description,
  schema,
  ...(headers ? { headers } : {}),
});
/** The answer to a use case's `created` outcome (201 by convention). */
export const created = (
  description: string,
  schema: z.ZodMiniType,
  headers?: readonly ResponseHeader[],
): RouteResponse => ({ ...ok(description, schema, headers), outcome: 'created' });

/** The status a route answers a use case's result with: the response naming its outcome, else 200. */
export function statusFor(route: Route, outcome: OutcomeKind | undefined): number {
  const named = Object.entries(route.responses).find(
    ([, r]) => outcome !== undefined && r.outcome === outcome,
  );
  const status = named ? Number(named[0]) : 200;
  // A status the route does not declare would make the OpenAPI document lie: a bug, answered 500.
  if (!route.responses[status])
    throw new Error(
      `${route.method} ${route.path} declares no response for the outcome '${outcome ?? 'plain'}' (${status})`,
    );
  return status;
}

export const BUILD_CHANGE_ERRORS: readonly ErrorCode[] = [
  'not_found',
  'build_completed',
  'build_cancelled',
  'conflict',
  'precondition_failed',
  'idempotency_mismatch',
];

export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

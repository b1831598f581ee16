/**
 * What a route is (lib/http/routes.ts lists them all; each function group's routes are in
 * lib/http/<group>.routes.ts, so a function bundles only its own routes' schemas). Plain values:
 * dispatch() binds each route of its group to its handler at cold start.
 */

import type { ErrorCode } from '../errors';
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
/** Response headers the document describes. */
export type ResponseHeader = 'ETag' | 'Location' | 'Idempotent-Replayed' | 'Cache-Control';

export interface RouteRequest {
  /** One schema per `{name}` of the path. */
  path?: Readonly<Record<string, z.ZodMiniType>>;
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
export const BUILD_CHANGE_ERRORS: readonly ErrorCode[] = [
  'not_found',
  'build_completed',
  'build_cancelled',
  'conflict',
  'precondition_failed',
  'idempotency_mismatch',
];

export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

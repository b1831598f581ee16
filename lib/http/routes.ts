/**
 * The route table: the one list of HTTP routes. The CDK HTTP API and the local gateway are both
 * generated from it, and each function group dispatches on it, so they cannot disagree. Each route
 * also declares its request schemas (path, query, body) and its responses by status: handlers parse
 * with exactly those schema objects (lib/http/handler.ts checks it), and the OpenAPI document
 * (lib/http/openapi.ts, GET /openapi.json) is generated from them, so the contract cannot drift.
 */
import * as z from 'zod';
import {
  artifactNameSchema,
  registerArtifactSchema,
  stateCodeParamSchema,
  stateReportWithArtifactsSchema,
  verifyArtifactSchema,
} from '../artifacts/artifact.schema';
import { artifactListSchema, artifactViewSchema } from '../artifacts/artifact.view';
import {
  apiKeyIdSchema,
  createApiKeySchema,
  createUserSchema,
  includeQuerySchema,
  listApiKeysQuerySchema,
  tokenRequestSchema,
  usernameSchema,
} from '../auth/identity.schema';
import {
  apiKeyListSchema,
  apiKeyViewSchema,
  createdApiKeySchema,
  tokenViewSchema,
  userListSchema,
  userViewSchema,
  whoamiViewSchema,
} from '../auth/identity.view';
import {
  buildIdSchema,
  cancelSchema,
  childrenQuerySchema,
  createBuildSchema,
  forkSchema,
  historyQuerySchema,
  listBuildsQuerySchema,
  referenceIdSchema,
  unblockSchema,
} from '../builds/build.schema';
import {
  buildPageSchema,
  buildViewSchema,
  buildWithChildrenSchema,
  forkViewSchema,
  historyPageSchema,
  resumeViewSchema,
} from '../builds/build.view';
import { putCatalogSchema } from '../catalog/catalog.schema';
import { durationsQuerySchema, summaryQuerySchema } from '../dashboard/dashboard.schema';
import { durationsViewSchema, stuckViewSchema, summaryViewSchema } from '../dashboard/dashboard.view';
import type { ErrorCode } from '../errors';
import {
  acquireLeaseSchema,
  heartbeatSchema,
  releaseLeaseSchema,
  renewLeaseSchema,
} from '../leases/lease.schema';
import {
  heartbeatViewSchema,
  leaseReleasedSchema,
  leaseStatusSchema,
  leaseViewSchema,
} from '../leases/lease.view';
import { REFERENCE_KINDS, type ReferenceKind } from '../reference/reference.model';
import {
  createReferenceSchema,
  listReferenceQuerySchema,
  updateReferenceSchema,
} from '../reference/reference.schema';
import { catalogViewSchema, referencePageSchema, referenceViewSchema } from '../reference/reference.view';
import { healthViewSchema, readyViewSchema, statusViewSchema } from './system.view';

export type FunctionGroup =
  | 'system'
  | 'builds'
  | 'states'
  | 'artifacts'
  | 'identity'
  | 'reference'
  | 'dashboard';
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
  path?: Readonly<Record<string, z.ZodType>>;
  /** An object schema of the query string parameters. */
  query?: z.ZodType;
  /** The JSON body. */
  body?: z.ZodType;
  /** The body may be left out (then the handler uses `{}` or the headers). */
  bodyOptional?: boolean;
  headers?: readonly RequestHeader[];
}

export interface RouteResponse {
  description: string;
  /** The JSON body; absent when `contentType` names another media type. */
  schema?: z.ZodType;
  contentType?: 'text/html' | 'text/css' | 'text/javascript';
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

const ok = (description: string, schema: z.ZodType, headers?: readonly ResponseHeader[]): RouteResponse => ({
  description,
  schema,
  ...(headers ? { headers } : {}),
});
const buildPath = { id: buildIdSchema };
const artifactPath = { id: buildIdSchema, code: stateCodeParamSchema, name: artifactNameSchema };
const referencePath = { id: referenceIdSchema };
const BUILD_CHANGE_ERRORS: readonly ErrorCode[] = [
  'not_found',
  'build_completed',
  'build_cancelled',
  'conflict',
  'precondition_failed',
  'idempotency_mismatch',
];

/** Reference data: the same six routes for each kind (projects, platforms, OS versions, image types). */
const referenceRoutes = (kind: ReferenceKind): Route[] => {
  const base = `/${kind.path}`;
  const one = `${base}/{id}`;
  const n = kind.handlerName;
  const view = referenceViewSchema(kind.type);
  const etagged = (description: string) => ok(description, view, ['ETag']);
  return [
    {
      method: 'POST',
      path: base,
      group: 'reference',
      handler: `create${n}`,
      scope: 'write',
      summary: `Create ${kind.article} ${kind.label}`,
      request: { body: createReferenceSchema(kind.type), headers: ['Idempotency-Key'] },
      responses: {
        201: ok(`The new ${kind.label}`, view, ['ETag', 'Location', 'Idempotent-Replayed']),
      },
      errors: ['already_exists', 'idempotency_mismatch'],
    },
    {
      method: 'GET',
      path: base,
      group: 'reference',
      handler: `list${n}s`,
      scope: 'read',
      summary: `List ${kind.label}s (active only unless include_deactivated=true)`,
      request: { query: listReferenceQuerySchema },
      responses: { 200: ok(`A page of ${kind.label}s`, referencePageSchema(kind.type)) },
    },
    {
      method: 'GET',
      path: one,
      group: 'reference',
      handler: `get${n}`,
      scope: 'read',
      summary: `Get ${kind.article} ${kind.label}`,
      request: { path: referencePath },
      responses: { 200: etagged(`The ${kind.label}`) },
      errors: ['not_found'],
    },
    {
      method: 'PUT',
      path: one,
      group: 'reference',
      handler: `update${n}`,
      scope: 'write',
      summary: `Update ${kind.article} ${kind.label}'s fields`,
      request: {
        path: referencePath,
        body: updateReferenceSchema(kind.type),
        headers: ['Idempotency-Key', 'If-Match'],
      },
      responses: { 200: ok(`The ${kind.label}, changed`, view, ['ETag', 'Idempotent-Replayed']) },
      errors: ['not_found', 'conflict', 'precondition_failed', 'idempotency_mismatch'],
    },
    {
      method: 'DELETE',
      path: one,
      group: 'reference',
      handler: `deactivate${n}`,
      scope: 'admin',
      summary: `Deactivate ${kind.article} ${kind.label} (soft delete)`,
      request: { path: referencePath },
      responses: { 200: etagged(`The ${kind.label}, deactivated (also when it already was)`) },
      errors: ['not_found', 'conflict'],
    },
    {
      method: 'POST',
      path: `${one}/restore`,
      group: 'reference',
      handler: `restore${n}`,
      scope: 'admin',
      summary: `Reactivate a deactivated ${kind.label}`,
      request: { path: referencePath },
      responses: { 200: etagged(`The ${kind.label}, active again`) },
      errors: ['not_found', 'conflict'],
    },
  ];
};

/** The files GET /docs/{asset} serves: Swagger UI's own two from swagger-ui-dist, and the page's script. */
export const API_DOCS_ASSETS = ['swagger-ui-bundle.js', 'swagger-ui.css', 'api-docs.js'] as const;
export const apiDocsAssetSchema = z.enum(API_DOCS_ASSETS);
const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

const page = (contentType: RouteResponse['contentType'], description: string): RouteResponse => ({
  description,
  contentType,
  headers: ['Cache-Control'],
});

/** POST /builds/{id}/states; the seeds' singular path is an alias of it. */
const REPORT_STATE_ROUTE: Route = {
  method: 'POST',
  path: '/builds/{id}/states',
  group: 'states',
  handler: 'reportState',
  scope: 'write',
  summary: 'Report a state',
  request: {
    path: buildPath,
    body: stateReportWithArtifactsSchema,
    headers: ['Idempotency-Key', 'If-Match', 'X-Lease-Id'],
  },
  responses: {
    201: ok(
      'The build after the report; with `artifacts` in the request, also the artifacts it registered',
      buildViewSchema.extend({ artifacts: z.array(artifactViewSchema).optional() }),
      ['ETag', 'Idempotent-Replayed'],
    ),
  },
  errors: [
    ...BUILD_CHANGE_ERRORS,
    'state_regression',
    'already_in_progress',
    'state_completed',
    'blocked',
    'lease_held',
    'lease_lost',
  ],
};

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/',
    group: 'dashboard',
    handler: 'webDashboard',
    scope: 'none',
    summary: 'The web dashboard (an HTML page; it calls the API with your key)',
    responses: { 200: page('text/html', 'The page') },
  },
  {
    method: 'GET',
    path: '/openapi.json',
    group: 'dashboard',
    handler: 'openApiDocument',
    scope: 'none',
    summary: 'This API as an OpenAPI 3.1 document (generated from the route table at build time)',
    responses: {
      200: ok('The OpenAPI document', openApiDocumentSchema, ['Cache-Control']),
    },
  },
  {
    method: 'GET',
    path: '/docs',
    group: 'dashboard',
    handler: 'apiDocsPage',
    scope: 'none',
    summary: 'Interactive API reference (Swagger UI, served from the function, no CDN)',
    responses: { 200: page('text/html', 'The page') },
  },
  {
    method: 'GET',
    path: '/docs/{asset}',
    group: 'dashboard',
    handler: 'apiDocsAsset',
    scope: 'none',
    summary: 'A script or style sheet of the API reference page (from the swagger-ui-dist package)',
    request: { path: { asset: apiDocsAssetSchema } },
    responses: {
      200: {
        description: 'The file (text/javascript or text/css)',
        contentType: 'text/javascript',
        headers: ['Cache-Control'],
      },
    },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/health',
    group: 'system',
    handler: 'health',
    scope: 'none',
    summary: 'Liveness',
    responses: { 200: ok('The service answers', healthViewSchema) },
  },
  {
    method: 'GET',
    path: '/ready',
    group: 'system',
    handler: 'ready',
    scope: 'read',
    summary: 'Readiness (checks the table)',
    responses: { 200: ok('The table answers (503 unavailable otherwise)', readyViewSchema) },
  },
  {
    method: 'GET',
    path: '/whoami',
    group: 'system',
    handler: 'whoami',
    scope: 'read',
    summary: 'The caller as the service sees it',
    responses: { 200: ok('The principal', whoamiViewSchema) },
  },
  {
    method: 'POST',
    path: '/builds',
    group: 'builds',
    handler: 'createBuild',
    scope: 'write',
    summary: 'Create a build',
    request: { body: createBuildSchema, headers: ['Idempotency-Key'] },
    responses: { 201: ok('The new build', buildViewSchema, ['ETag', 'Location', 'Idempotent-Replayed']) },
    errors: ['build_exists', 'unknown_reference', 'idempotency_mismatch'],
  },
  {
    method: 'GET',
    path: '/builds',
    group: 'builds',
    handler: 'listBuilds',
    scope: 'read',
    summary: 'List builds, newest first',
    request: { query: listBuildsQuerySchema },
    responses: { 200: ok('A page of builds', buildPageSchema) },
  },
  {
    method: 'GET',
    path: '/builds/{id}',
    group: 'builds',
    handler: 'getBuild',
    scope: 'read',
    summary: 'Get a build',
    request: { path: buildPath },
    responses: {
      200: ok('The build; a parent of a fork also shows `children`, its roll-up', buildWithChildrenSchema, [
        'ETag',
      ]),
    },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/fork',
    group: 'builds',
    handler: 'forkBuild',
    scope: 'write',
    summary: 'Fork a build: children that start from its completed states up to at_state',
    request: { path: buildPath, body: forkSchema, headers: ['Idempotency-Key'] },
    responses: { 201: ok('The children, in the order asked', forkViewSchema, ['Idempotent-Replayed']) },
    errors: [
      'not_found',
      'state_not_reached',
      'build_exists',
      'unknown_reference',
      'conflict',
      'idempotency_mismatch',
    ],
  },
  {
    method: 'GET',
    path: '/builds/{id}/children',
    group: 'builds',
    handler: 'listChildren',
    scope: 'read',
    summary: 'The children of a fork parent, newest first',
    request: { path: buildPath, query: childrenQuerySchema },
    responses: { 200: ok('A page of builds', buildPageSchema) },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/history',
    group: 'builds',
    handler: 'getHistory',
    scope: 'read',
    summary: 'State history of a build',
    request: { path: buildPath, query: historyQuerySchema },
    responses: { 200: ok('A page of history entries, oldest first', historyPageSchema) },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/cancel',
    group: 'builds',
    handler: 'cancelBuild',
    scope: 'write',
    summary: 'Cancel a build',
    request: { path: buildPath, body: cancelSchema, headers: ['Idempotency-Key', 'If-Match'] },
    responses: { 200: ok('The build, cancelled', buildViewSchema, ['ETag', 'Idempotent-Replayed']) },
    errors: BUILD_CHANGE_ERRORS,
  },
  {
    method: 'POST',
    path: '/builds/{id}/unblock',
    group: 'builds',
    handler: 'unblockBuild',
    scope: 'write',
    summary: 'Allow another attempt of a blocked build',
    request: { path: buildPath, body: unblockSchema, headers: ['Idempotency-Key', 'If-Match'] },
    responses: {
      200: ok('The build, failed again with attempts to spare', buildViewSchema, [
        'ETag',
        'Idempotent-Replayed',
      ]),
    },
    errors: [...BUILD_CHANGE_ERRORS, 'not_blocked'],
  },
  REPORT_STATE_ROUTE,
  {
    ...REPORT_STATE_ROUTE,
    path: '/builds/{id}/state',
    operationId: 'reportStateSeedsAlias',
    summary: "Report a state: the seeds' path, the same as /builds/{id}/states",
  },
  {
    method: 'GET',
    path: '/builds/{id}/resume',
    group: 'artifacts',
    handler: 'getResume',
    scope: 'read',
    summary: 'What a worker should do next',
    request: { path: buildPath },
    responses: {
      200: ok('The advice, with the artifacts to download', resumeViewSchema(artifactViewSchema)),
    },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'acquireLease',
    scope: 'write',
    summary: 'Take the lease on a build (409 lease_held while another worker holds a live one)',
    request: { path: buildPath, body: acquireLeaseSchema },
    responses: { 201: ok('The lease; send its lease_id as X-Lease-Id', leaseViewSchema) },
    errors: ['not_found', 'lease_held', 'build_completed', 'build_cancelled'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'getLease',
    scope: 'read',
    summary: 'Who holds the lease, and the last heartbeat',
    request: { path: buildPath },
    responses: {
      200: ok('The lease holder (null when none is live) and the last heartbeat', leaseStatusSchema),
    },
    errors: ['not_found'],
  },
  {
    method: 'PUT',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'renewLease',
    scope: 'write',
    summary: "Renew the lease (the holder's heartbeat)",
    request: { path: buildPath, body: renewLeaseSchema, bodyOptional: true, headers: ['X-Lease-Id'] },
    responses: { 200: ok('The lease, expiring ttl_s from now', leaseViewSchema) },
    errors: ['not_found', 'lease_lost'],
  },
  {
    method: 'DELETE',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'releaseLease',
    scope: 'write',
    summary: 'Release the lease',
    request: { path: buildPath, body: releaseLeaseSchema, bodyOptional: true, headers: ['X-Lease-Id'] },
    responses: { 200: ok('Released (also when it already was)', leaseReleasedSchema) },
    errors: ['not_found', 'lease_lost'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/heartbeat',
    group: 'states',
    handler: 'heartbeat',
    scope: 'write',
    summary: 'Record a heartbeat without a lease',
    request: { path: buildPath, body: heartbeatSchema },
    responses: { 200: ok('The heartbeat, recorded', heartbeatViewSchema) },
    errors: ['not_found', 'lease_held', 'build_completed', 'build_cancelled'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts',
    group: 'artifacts',
    handler: 'registerArtifact',
    scope: 'write',
    summary: 'Register an artifact of a state (managed upload or external pointer)',
    request: { path: { id: buildIdSchema, code: stateCodeParamSchema }, body: registerArtifactSchema },
    responses: {
      201: ok('The artifact; managed ones carry a presigned upload', artifactViewSchema),
      200: ok('The same registration again (idempotent)', artifactViewSchema),
    },
    errors: ['not_found', 'build_cancelled', 'state_not_reached', 'artifact_exists'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/artifacts',
    group: 'artifacts',
    handler: 'listArtifacts',
    scope: 'read',
    summary: 'All artifacts of a build, grouped by state',
    request: { path: buildPath },
    responses: { 200: ok('The artifacts by state', artifactListSchema) },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/states/{code}/artifacts/{name}',
    group: 'artifacts',
    handler: 'getArtifact',
    scope: 'read',
    summary: 'One artifact, with a download URL for managed artifacts',
    request: { path: artifactPath },
    responses: { 200: ok('The artifact', artifactViewSchema) },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts/{name}/verify',
    group: 'artifacts',
    handler: 'verifyArtifact',
    scope: 'write',
    summary: 'Check size and checksum; mark the artifact verified',
    request: { path: artifactPath, body: verifyArtifactSchema, bodyOptional: true },
    responses: { 200: ok('The artifact, verified', artifactViewSchema) },
    errors: [
      'not_found',
      'artifact_not_uploaded',
      'artifact_missing',
      'checksum_mismatch',
      'checksum_required',
    ],
  },
  {
    method: 'POST',
    path: '/auth/token',
    group: 'identity',
    handler: 'issueToken',
    scope: 'none',
    summary: 'Exchange a username and password for a short-lived JWT',
    request: { body: tokenRequestSchema },
    responses: { 200: ok('A Bearer token', tokenViewSchema, ['Cache-Control']) },
    errors: ['unauthorized', 'too_many_requests'],
  },
  {
    method: 'POST',
    path: '/api-keys',
    group: 'identity',
    handler: 'createApiKey',
    scope: 'admin',
    summary: 'Create an API key (the secret is shown once)',
    request: { body: createApiKeySchema },
    responses: { 201: ok('The key with its secret', createdApiKeySchema, ['Location', 'Cache-Control']) },
  },
  {
    method: 'GET',
    path: '/api-keys',
    group: 'identity',
    handler: 'listApiKeys',
    scope: 'admin',
    summary: 'List API keys (never their secrets)',
    request: { query: listApiKeysQuerySchema },
    responses: { 200: ok('The keys', apiKeyListSchema) },
  },
  {
    method: 'DELETE',
    path: '/api-keys/{id}',
    group: 'identity',
    handler: 'revokeApiKey',
    scope: 'admin',
    summary: 'Revoke an API key at once',
    request: { path: { id: apiKeyIdSchema } },
    responses: { 200: ok('The key, revoked', apiKeyViewSchema) },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/users',
    group: 'identity',
    handler: 'createUser',
    scope: 'admin',
    summary: 'Create a user',
    request: { body: createUserSchema },
    responses: { 201: ok('The user', userViewSchema, ['Location']) },
    errors: ['already_exists'],
  },
  {
    method: 'GET',
    path: '/users',
    group: 'identity',
    handler: 'listUsers',
    scope: 'admin',
    summary: 'List users (active only unless include_deactivated=true)',
    request: { query: includeQuerySchema('include_deactivated') },
    responses: { 200: ok('The users', userListSchema) },
  },
  {
    method: 'DELETE',
    path: '/users/{username}',
    group: 'identity',
    handler: 'deactivateUser',
    scope: 'admin',
    summary: 'Deactivate a user (soft delete); their tokens stop working',
    request: { path: { username: usernameSchema } },
    responses: { 200: ok('The user, deactivated', userViewSchema) },
    errors: ['not_found'],
  },
  ...REFERENCE_KINDS.flatMap(referenceRoutes),
  {
    method: 'GET',
    path: '/projects/{id}/state-codes',
    group: 'reference',
    handler: 'getStateCodes',
    scope: 'read',
    summary: "A project's state catalog",
    request: { path: referencePath },
    responses: { 200: ok('The catalog', catalogViewSchema, ['ETag']) },
    errors: ['not_found'],
  },
  {
    method: 'PUT',
    path: '/projects/{id}/state-codes',
    group: 'reference',
    handler: 'putStateCodes',
    scope: 'admin',
    summary: "Replace a project's state catalog",
    request: { path: referencePath, body: putCatalogSchema, headers: ['If-Match'] },
    responses: { 200: ok('The catalog, replaced', catalogViewSchema, ['ETag']) },
    errors: ['not_found', 'conflict', 'precondition_failed'],
  },
  {
    method: 'GET',
    path: '/dashboard/summary',
    group: 'dashboard',
    handler: 'summary',
    scope: 'read',
    summary:
      'Builds by status and platform, active builds with progress and ETA, failures, 7-day success rate',
    request: { query: summaryQuerySchema },
    responses: { 200: ok('The summary', summaryViewSchema) },
  },
  {
    method: 'GET',
    path: '/dashboard/durations',
    group: 'dashboard',
    handler: 'durations',
    scope: 'read',
    summary: 'p50/p90/p95 duration per state code per platform',
    request: { query: durationsQuerySchema },
    responses: { 200: ok('Durations by platform and state', durationsViewSchema) },
  },
  {
    method: 'GET',
    path: '/status',
    group: 'dashboard',
    handler: 'status',
    scope: 'read',
    summary: "The seeds' status overview: version, uptime, table and artifact store checks, builds by status",
    responses: { 200: ok('The overview; status is degraded when a store does not answer', statusViewSchema) },
  },
  {
    method: 'GET',
    path: '/dashboard/stuck',
    group: 'dashboard',
    handler: 'stuck',
    scope: 'read',
    summary: 'Running attempts that are silent or overdue',
    responses: { 200: ok('The stuck attempts', stuckViewSchema) },
  },
];

export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

const byKey = new Map(ROUTES.map((r) => [routeKey(r), r]));
export const findRoute = (key: string | undefined): Route | undefined => (key ? byKey.get(key) : undefined);

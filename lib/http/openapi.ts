/**
 * The OpenAPI 3.1 document, generated from the route table: every route and method with its scope,
 * its request schemas (path, query, body, headers) and its responses by status. JSON Schemas come
 * from the zod schemas themselves through zod 4's own `z.toJSONSchema` (2020-12, the dialect of
 * OpenAPI 3.1), so there is no second description of any field to keep in step.
 * `npm run openapi` writes it to .build/openapi.json; the dashboard function serves that file.
 */

import {
  artifactListSchema,
  artifactViewSchema,
  presignedDownloadSchema,
  presignedUploadSchema,
} from '../artifacts/artifact.view';
import { apiKeyViewSchema, userViewSchema } from '../auth/identity.view';
import { buildViewSchema, historyViewSchema } from '../builds/build.view';
import { leaseHolderSchema } from '../builds/lease-holder';
import { activeBuildSchema, durationStatsSchema, stuckAttemptSchema } from '../dashboard/dashboard.view';
import { ERROR_CODES, type ErrorCode, statusOf } from '../errors';
import { IDEMPOTENCY_KEY_PATTERN } from '../idempotency/idempotency';
import { leaseViewSchema } from '../leases/lease.view';
import { REFERENCE_KINDS } from '../reference/reference.model';
import { catalogViewSchema, referenceViewSchema } from '../reference/reference.view';
import { errorBodySchema, metadataViewSchema, timestampSchema } from '../view';
import * as z from '../zod';
import { LEASE_ID_HEADER_PATTERN, pathParamOf } from './route';
import { type RequestHeader, type ResponseHeader, ROUTES, type Route, type RouteScope } from './routes';

type Json = Record<string, unknown>;
export type OpenApiDocument = Json & { openapi: string; paths: Record<string, Record<string, Json>> };

/** The extension naming the scope an operation needs (read, write, admin, or none). */
export const SCOPE_EXTENSION = 'x-buildstate-scope';

/** Response schemas worth a name of their own; every other one is named after its operation. */
const NAMED_RESPONSE_SCHEMAS: readonly [z.ZodMiniType, string][] = [
  [errorBodySchema, 'Error'],
  [timestampSchema, 'Timestamp'],
  [metadataViewSchema, 'Metadata'],
  [buildViewSchema, 'Build'],
  [historyViewSchema, 'HistoryEntry'],
  [artifactViewSchema, 'Artifact'],
  [artifactListSchema, 'ArtifactsByState'],
  [presignedUploadSchema, 'PresignedUpload'],
  [presignedDownloadSchema, 'PresignedDownload'],
  [leaseViewSchema, 'Lease'],
  [leaseHolderSchema, 'LeaseHolder'],
  [catalogViewSchema, 'StateCatalog'],
  [apiKeyViewSchema, 'ApiKey'],
  [userViewSchema, 'User'],
  [activeBuildSchema, 'ActiveBuild'],
  [durationStatsSchema, 'DurationStats'],
  [stuckAttemptSchema, 'StuckAttempt'],
  ...REFERENCE_KINDS.map((k): [z.ZodMiniType, string] => [referenceViewSchema(k.type), k.handlerName]),
];

const SECURITY_SCHEMES = {
  ApiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'An API key (POST /api-keys). On the key API, and locally.',
  },
  BearerJwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT from POST /auth/token, or from the configured identity provider (OIDC). On the key API, and locally.',
  },
  SigV4: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      'AWS Signature Version 4 (IAM). Only on the IAM API (the IamApiUrl output), and locally when BUILDSTATE_LOCAL_AWS_* are set; e.g. curl --aws-sigv4 "aws:amz:REGION:execute-api". IAM callers get the write scope.',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
} as const;

const TAGS: Record<Route['group'], string> = {
  system: 'Liveness, readiness and the caller',
  builds: 'Builds: create, list, read, cancel, unblock, history',
  states: 'State reports, resume advice, leases and heartbeats',
  artifacts: 'Artifacts of states: registration, presigned transfer, verification',
  identity: 'API keys, users and tokens',
  oidc: 'Trust policies and the exchange of CI OIDC tokens',
  reference: 'Projects, platforms, OS versions, image types and state catalogs',
  dashboard: 'The dashboard API, the web page and this API reference',
  lineage: 'Published images, lineage, channels and revocation',
  provenance: 'Signed SLSA provenance of completed builds and the keys that verify it',
};

const REQUEST_HEADERS: Record<RequestHeader, { name: string; json: Json }> = {
  'Idempotency-Key': {
    name: 'IdempotencyKey',
    json: {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'A repeat with the same key, method, path and body returns the first response (Idempotent-Replayed: true); the same key with another request is 422 idempotency_mismatch.',
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, maxLength: 255 },
    },
  },
  'If-Match': {
    name: 'IfMatch',
    json: {
      name: 'If-Match',
      in: 'header',
      required: false,
      description:
        'Apply the change only at this version (the ETag), e.g. "3"; 412 precondition_failed otherwise.',
      schema: { type: 'string', pattern: '^\\s*(?:W/)?"?\\d{1,15}"?\\s*$' },
    },
  },
  'X-Lease-Id': {
    name: 'LeaseId',
    json: {
      name: 'X-Lease-Id',
      in: 'header',
      required: false,
      description: 'The lease_id from POST /builds/{id}/lease; required on reports while a lease is live.',
      schema: { type: 'string', pattern: LEASE_ID_HEADER_PATTERN.source },
    },
  },
};

const RESPONSE_HEADERS: Record<ResponseHeader | 'Retry-After', Json> = {
  ETag: {
    description: 'The version of the returned resource, e.g. "3" (send it as If-Match)',
    schema: { type: 'string' },
  },
  Location: { description: 'Path of the created resource', schema: { type: 'string' } },
  'Idempotent-Replayed': {
    description: 'true when this is the stored response of an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
  'Cache-Control': { description: 'Caching policy of the answer', schema: { type: 'string' } },
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'string', pattern: '^\\d+$' },
  },
};
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name.replace(/-/g, '')}` });

/** Errors every route can answer, whatever it does. */
function commonErrors(route: Route): ErrorCode[] {
  const codes: ErrorCode[] = ['validation_error', 'payload_too_large', 'internal_error', 'unavailable'];
  if (route.scope !== 'none') codes.push('unauthorized', 'forbidden');
  return codes;
}

const SCOPE_TEXT: Record<RouteScope, string> = {
  none: 'No credentials needed.',
  read: 'Needs the `read` scope (or `write`/`admin`).',
  write: 'Needs the `write` scope (or `admin`); IAM (SigV4) callers have it.',
  admin: 'Needs the `admin` scope.',
};

const pascal = (name: string) => name[0]!.toUpperCase() + name.slice(1);

/** JSON Schema of one zod schema, inline (no $schema: it sits inside the document). */
function inline(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  });
  return json;
}

export interface OpenApiOptions {
  version: string;
}

export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  // Two registries, converted once each: request bodies as their input type (what a caller sends:
  // defaults optional, before transforms), responses as their output type. Every schema in a
  // registry becomes a component and is referenced by $ref wherever it appears inside another.
  const requests = z.registry<{ id: string }>();
  const responses = z.registry<{ id: string }>();
  for (const [schema, id] of NAMED_RESPONSE_SCHEMAS) responses.add(schema, { id });
  const refOf = (registry: typeof responses, schema: z.ZodMiniType, id: string) => {
    if (!registry.has(schema)) registry.add(schema, { id });
    return { $ref: `#/components/schemas/${registry.get(schema)!.id}` };
  };

  const paths: OpenApiDocument['paths'] = {};
  const usedRequestHeaders = new Set<RequestHeader>();
  for (const route of ROUTES) {
    const op = route.operationId ?? route.handler;
    const parameters: Json[] = [];
    for (const [name, param] of Object.entries(route.request?.path ?? {}))
      parameters.push({
        name,
        in: 'path',
        required: true,
        schema: inline(pathParamOf(param).schema, 'input'),
      });
    if (route.request?.query) {
      const query = inline(route.request.query, 'input') as {
        properties?: Record<string, Json>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: 'query',
          required: query.required?.includes(name) ?? false,
          ...(description ? { description } : {}),
          schema: rest,
        });
      }
    }
    for (const header of route.request?.headers ?? []) {
      usedRequestHeaders.add(header);
      parameters.push({ $ref: `#/components/parameters/${REQUEST_HEADERS[header].name}` });
    }

    const operationResponses: Record<string, Json> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const headers = Object.fromEntries((response.headers ?? []).map((h) => [h, headerRef(h)]));
      const content = response.schema
        ? { 'application/json': { schema: refOf(responses, response.schema, `${pascal(op)}Response`) } }
        : { [response.contentType ?? 'text/plain']: { schema: { type: 'string' } } };
      operationResponses[status] = {
        description: response.description,
        ...(Object.keys(headers).length ? { headers } : {}),
        content,
      };
    }
    const codes = [...new Set([...(route.errors ?? []), ...commonErrors(route)])];
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of ERROR_CODES.filter((c) => codes.includes(c)))
      byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
    for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
      const retry = list.includes('unavailable') || list.includes('too_many_requests');
      operationResponses[String(status)] = {
        description: `Error: ${list.map((c) => `\`${c}\``).join(', ')}`,
        ...(retry ? { headers: { 'Retry-After': headerRef('Retry-After') } } : {}),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }

    const body = route.request?.body;
    const operation: Json = {
      operationId: op,
      summary: route.summary,
      description: SCOPE_TEXT[route.scope],
      tags: [route.group],
      [SCOPE_EXTENSION]: route.scope,
      // OpenAPI 3.1 lets non-OAuth schemes list roles: here the scope each credential must carry.
      security:
        route.scope === 'none'
          ? []
          : Object.keys(SECURITY_SCHEMES).map((scheme) => ({ [scheme]: [route.scope] })),
      ...(parameters.length ? { parameters } : {}),
      ...(body
        ? {
            requestBody: {
              required: !route.request?.bodyOptional,
              content: { 'application/json': { schema: refOf(requests, body, `${pascal(op)}Request`) } },
            },
          }
        : {}),
      responses: operationResponses,
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }

  const schemas: Record<string, Json> = {};
  for (const [registry, io] of [
    [requests, 'input'],
    [responses, 'output'],
  ] as const) {
    const converted = z.toJSONSchema(registry, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      uri: (id) => `#/components/schemas/${id}`,
    }).schemas;
    for (const [id, json] of Object.entries(converted)) {
      const { $schema: _s, $id: _i, ...rest } = json as Json;
      schemas[id] = rest;
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'BuildState API',
      version: options.version,
      summary: 'Build state for long VM-image pipelines: numbered milestones, attempts, artifacts and resume',
      description:
        'Generated from the route table (lib/http/routes.ts) at build time. Every operation names the scope it needs in `x-buildstate-scope`. Errors share one body, `{"error":{"code","message","details"}}`, whose codes are listed in the `Error` schema. docs/API.md explains the rules.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'The service that serves this document' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas,
      securitySchemes: SECURITY_SCHEMES,
      parameters: Object.fromEntries(
        [...usedRequestHeaders].map((h) => [REQUEST_HEADERS[h].name, REQUEST_HEADERS[h].json]),
      ),
      headers: Object.fromEntries(
        Object.entries(RESPONSE_HEADERS).map(([name, header]) => [name.replace(/-/g, ''), header]),
      ),
    },
  };
}

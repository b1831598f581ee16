/**
 * The one HTTP wrapper. Every handler gets the same middleware, in the same order:
 *   before:  X-Ray subsegment (Powertools' tracer, in Lambda only) → Lambda context on every log
 *            line (Powertools) → body (size, base64, JSON) → authentication
 *   onError: errorResponse, attached last so it runs first and answers every failure as JSON.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { hasScope, type Principal, principalFromGateway } from '../auth/principal';
import { isOutcomeUnknown } from '../db/errors';
import { AppError } from '../errors';
import { fingerprint, IDEMPOTENCY_KEY_PATTERN, type IdempotencyRequest } from '../idempotency/idempotency';
import { logger } from '../observability/logger';
import { tracer } from '../observability/tracer';
import type { Result } from '../outcome';
import type { MutationOptions } from '../use-case';
import type * as z from '../zod';
import {
  errorBody,
  etag,
  type HttpEvent,
  type HttpRequest,
  type HttpResponse,
  type HttpResult,
  json,
  MAX_BODY_BYTES,
  parse,
  parseIfMatch,
} from './http';
import { inexactNumberPaths } from './json-numbers';
import { LEASE_ID_HEADER_PATTERN, pathParamOf, type Route, statusFor } from './route';

/** What the middlewares learned about the request, carried on the per-invocation Lambda context. */
type HttpContext = Context & { http?: { body?: unknown; principal?: Principal } };
type Middleware = MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext>;

const input = (context: HttpContext) => {
  context.http ??= {};
  return context.http;
};

const jsonBody = (): Middleware => ({
  before: (request) => {
    const { body, isBase64Encoded } = request.event;
    if (body === undefined || body === null || body === '') return;
    const bytes = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
    if (bytes.length > MAX_BODY_BYTES) {
      throw new AppError(
        'payload_too_large',
        `Request body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`,
        {
          limit_bytes: MAX_BODY_BYTES,
        },
      );
    }
    const text = bytes.toString('utf8');
    if (text.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AppError(
        'validation_error',
        `Request body is not valid JSON: ${(error as Error).message}`,
        {},
      );
    }
    // JSON.parse rounds numbers a double cannot hold; storing the rounded value would keep
    // something the caller never sent.
    const inexact = inexactNumberPaths(text);
    if (inexact.length > 0) {
      const issues = inexact.map(({ path, token }) => ({
        path,
        message: `number ${token.length > 40 ? `${token.slice(0, 40)}…` : token} would be rounded (numbers are kept as IEEE 754 doubles, exact up to 15 significant digits); send it as a string`,
      }));
      throw new AppError(
        'validation_error',
        `Invalid request body: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`,
        { issues },
      );
    }
    input(request.context).body = parsed;
  },
});

const authenticate = (route: Route): Middleware => ({
  before: async (request) => {
    if (route.scope === 'none') return;
    // The gateway has already decided who is calling: behind API Gateway the Lambda authorizer (or
    // IAM); locally, the gateway does the same before it invokes a function (local/gateway.ts).
    // So no function but the authorizer bundles the key, user and token code.
    const authorizer = (request.event.requestContext as { authorizer?: unknown }).authorizer;
    const principal = principalFromGateway(authorizer);
    if (!principal) throw new AppError('unauthorized', 'The gateway passed no authenticated caller');
    if (!hasScope(principal, route.scope)) {
      throw new AppError(
        'forbidden',
        `${route.method} ${route.path} needs the '${route.scope}' scope; this caller has [${principal.scopes.join(', ')}]`,
        { required_scope: route.scope, scopes: principal.scopes },
      );
    }
    input(request.context).principal = principal;
  },
});

/**
 * A request the service cannot finish in time, or a store call that got no answer, may have
 * committed. Idempotent retries make that safe: the same Idempotency-Key replays the change if it
 * was applied and makes it if it was not (bldst always sends one).
 */
const OUTCOME_UNKNOWN = {
  message:
    'The store did not answer in time; the change may have been applied. Retry with the same Idempotency-Key: a change that was applied is answered from its record, one that was not is made',
  details: { may_have_applied: true, retry: 'repeat the request with the same Idempotency-Key' },
};
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** middy's own deadline (the function is about to time out): a 503 whose outcome is unknown, never a 500. */
const FUNCTION_DEADLINE_MS = 1_000;
const functionTimeout = (): never => {
  const cause = Object.assign(new Error('the function reached its deadline'), { name: 'TimeoutError' });
  throw new AppError('unavailable', 'The service did not answer in time; retry shortly', {}, { cause });
};

const errorResponse = (): Middleware => ({
  onError: (request) => {
    let error = request.error;
    if (
      error instanceof AppError &&
      error.code === 'unavailable' &&
      !SAFE_METHODS.has(request.event.requestContext?.http?.method ?? 'GET') &&
      isOutcomeUnknown(error.cause)
    ) {
      error = new AppError(
        'unavailable',
        OUTCOME_UNKNOWN.message,
        { ...error.details, ...OUTCOME_UNKNOWN.details },
        { cause: error.cause },
      );
    }
    if (error instanceof AppError) {
      if (error.status >= 500)
        logger.error('request failed', { code: error.code, cause: error.cause as Error });
      const headers: Record<string, string> =
        error.code === 'unavailable'
          ? { 'retry-after': '1' }
          : error.code === 'too_many_requests'
            ? { 'retry-after': String(error.details.retry_after_s ?? 60) }
            : {};
      request.response = json(error.status, errorBody(error), headers);
      return;
    }
    logger.error('unhandled error', { error: error as Error, routeKey: request.event.routeKey });
    request.response = json(500, {
      error: {
        code: 'internal_error',
        message: 'Internal error; it has been logged',
        details: { request_id: request.event.requestContext?.requestId ?? null },
      },
    });
  },
});

/** A route's Lambda handler, made for the route it serves (dispatch() binds each at cold start). */
export type RouteHandler = (route: Route) => (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** Wraps a route's code in the common middleware; the route comes from the table, not a registry. */
export const httpHandler =
  (fn: (req: HttpRequest) => Promise<HttpResponse>): RouteHandler =>
  (route) =>
    bind(route, fn);

function bind(route: Route, fn: (req: HttpRequest) => Promise<HttpResponse>) {
  return middy<HttpEvent, HttpResult, Error, HttpContext>({
    timeoutEarlyInMillis: FUNCTION_DEADLINE_MS,
    timeoutEarlyResponse: functionTimeout,
  })
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(jsonBody())
    .use(authenticate(route))
    .use(errorResponse())
    .handler(async (event, context) => {
      const { body, principal } = input(context);
      const headers = event.headers ?? {};
      const response = await fn({
        event,
        route,
        method: event.requestContext.http.method,
        path: event.rawPath,
        params: (event.pathParameters ?? {}) as Record<string, string>,
        query: (event.queryStringParameters ?? {}) as Record<string, string>,
        body,
        principal: principal ?? ANONYMOUS,
        requestId: event.requestContext.requestId,
        header: (name) => headers[name.toLowerCase()],
      });
      if (response.text !== undefined)
        return { statusCode: response.status, headers: response.headers ?? {}, body: response.text };
      return json(response.status, response.body, response.headers);
    });
}

/** Only routes declared `scope: 'none'` run without a principal. */
const ANONYMOUS: Principal = { id: 'anonymous', type: 'api_key', name: 'anonymous', scopes: [] };

/**
 * The route table's schemas are what the OpenAPI document shows; a handler that parsed with any
 * other schema would make the document lie. This refuses it on the first request (a 500 every
 * test of that route sees), so the two cannot drift apart unnoticed.
 */
function declared(route: Route, what: string, declaredSchema: unknown, used: unknown): void {
  if (declaredSchema !== used)
    throw new Error(
      `${route.method} ${route.path} parses its ${what} with a schema the route table does not declare`,
    );
}

/** The JSON body, parsed with the route's declared body schema. `value` replaces the raw body when given. */
export function parseBody<S extends z.ZodMiniType>(
  req: HttpRequest,
  schema: S,
  value: unknown = req.body,
): z.output<S> {
  declared(req.route, 'body', req.route.request?.body, schema);
  return parse(schema, value, 'body');
}

/** The query string, parsed with the route's declared query schema. */
export function parseQuery<S extends z.ZodMiniType>(req: HttpRequest, schema: S): z.output<S> {
  declared(req.route, 'query', req.route.request?.query, schema);
  return parse(schema, req.query, 'query');
}

/** Idempotency-Key and If-Match, read the same way by every mutating route. */
export function mutationOptions(req: HttpRequest): MutationOptions {
  const key = req.header('idempotency-key');
  let idempotency: IdempotencyRequest | undefined;
  if (key !== undefined) {
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw new AppError('validation_error', 'Idempotency-Key must be 1-255 visible ASCII characters', {
        header: 'Idempotency-Key',
      });
    }
    idempotency = {
      key,
      principal: req.principal.id,
      fingerprint: fingerprint(req.method, req.path, req.body),
    };
  }
  return { idempotency, ifMatch: parseIfMatch(req.header('if-match')), leaseId: leaseIdHeader(req) };
}

/** X-Lease-Id: the lease a worker reports under (POST /builds/{id}/lease hands it out). */
export function leaseIdHeader(req: HttpRequest): string | undefined {
  const value = req.header('x-lease-id');
  if (value === undefined) return undefined;
  if (!LEASE_ID_HEADER_PATTERN.test(value)) {
    throw new AppError('validation_error', `X-Lease-Id '${value}' is not a lease id (a 26-character ULID)`, {
      header: 'X-Lease-Id',
    });
  }
  return value;
}

/**
 * A use case's result as an HTTP response: the status its route declares for the result's outcome
 * (route.ts statusFor), ETag from the version, a marker on replays. A replayed result is the one
 * the first request got, mapped through the same route: the same status and body again.
 */
export function fromOutcome(
  req: HttpRequest,
  result: Result & { replayed?: boolean; version?: number },
  extraHeaders: Record<string, string> = {},
): HttpResponse {
  const headers: Record<string, string> = { ...extraHeaders };
  if (result.version !== undefined) headers.etag = etag(result.version);
  if (result.replayed) headers['idempotent-replayed'] = 'true';
  return { status: statusFor(req.route, result.outcome), body: result.body, headers };
}

/**
 * A path parameter, checked with what its route declares for it (the schema and, with a
 * PathParam, the text it must have); 400 naming it otherwise. Returns the text as sent. `schema`,
 * when given, must be the declared one (as parseBody checks).
 */
export function pathParam(req: HttpRequest, name: string, schema?: z.ZodMiniType): string {
  const declaredParam = req.route.request?.path?.[name];
  if (!declaredParam)
    throw new Error(
      `${req.route.method} ${req.route.path} reads path parameter ${name}, which it does not declare`,
    );
  const param = pathParamOf(declaredParam);
  if (schema !== undefined) declared(req.route, `path parameter ${name}`, param.schema, schema);
  const value = req.params[name] ?? '';
  if ((param.text && !param.text.test(value)) || !param.schema.safeParse(value).success) {
    throw new AppError('validation_error', `'${value}' is not ${param.expected ?? `a valid ${name}`}`, {
      path_parameter: name,
    });
  }
  return value;
}

/** The `{id}` path parameter of the build routes (the route declares it a build id). */
export const buildIdParam = (req: HttpRequest): string => pathParam(req, 'id');

/** The `{code}` path parameter: a state code, digits only (the route declares 0-100). */
export const stateCodeParam = (req: HttpRequest): number => Number(pathParam(req, 'code'));

/** The `{name}` path parameter of the artifact routes. */
export const artifactNameParam = (req: HttpRequest): string => pathParam(req, 'name');

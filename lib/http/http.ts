import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Principal } from '../auth/principal';
import { type AppError, validationError } from '../errors';
import type * as z from '../zod';
import type { Route } from './route';

/** API Gateway HTTP API (payload v2) event, as AWS and the local gateway both deliver it. */
export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface HttpRequest {
  event: HttpEvent;
  /** The route table's entry for this request: its schemas are the ones handlers parse with. */
  route: Route;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  /** The parsed JSON body, or undefined when the request had none. */
  body: unknown;
  principal: Principal;
  requestId: string;
  header(name: string): string | undefined;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
  /** A non-JSON body sent as is (the web dashboard page); `headers` must give its content-type. */
  text?: string;
  headers?: Record<string, string>;
}

export const MAX_BODY_BYTES = 64 * 1024;

/** Headers of every JSON response: browsers must not sniff a body into HTML or script. */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
};

/** A JSON response. The body ends with a newline, so `curl` output leaves the shell prompt on its own line. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode: status,
    headers: { ...JSON_HEADERS, ...headers },
    body: `${JSON.stringify(body)}\n`,
  };
}

export function errorBody(error: AppError) {
  return { error: { code: error.code, message: error.message, details: error.details } };
}

/** Validates input with a zod schema; failures become one 400 listing every problem. */
export function parse<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query',
): z.output<S> {
  if (where === 'body' && value === undefined) {
    throw validationError('A JSON object body is required', { issues: [{ path: '', message: 'required' }] });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const keys = (issue as { keys?: string[] }).keys;
    const path = issue.path.map(String).join('.');
    return issue.code === 'unrecognized_keys' && keys
      ? { path: path || '', message: `unknown field(s): ${keys.join(', ')}` }
      : { path, message: issue.message };
  });
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw validationError(`Invalid request ${where}: ${summary}`, { issues });
}

export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header);
  if (!match)
    throw validationError('If-Match must be a build version, e.g. If-Match: "3"', { header: 'If-Match' });
  return Number(match[1]);
}

export const etag = (version: number) => `"${version}"`;

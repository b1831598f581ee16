/**
 * A local stand-in for API Gateway HTTP API: turns HTTP requests into payload-v2 events, invokes
 * the same function-group handlers that run in Lambda, and writes their results back. Routes come
 * from lib/http/routes.ts, exactly as the CDK stack's do.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { handler as artifacts } from '../functions/artifacts/index';
import { handler as builds } from '../functions/builds/index';
import { handler as dashboard } from '../functions/dashboard/index';
import { handler as identity } from '../functions/identity/index';
import { handler as lineage } from '../functions/lineage/index';
import { handler as oidc } from '../functions/oidc/index';
import { handler as provenance } from '../functions/provenance/index';
import { handler as reference } from '../functions/reference/index';
import { handler as states } from '../functions/states/index';
import { handler as system } from '../functions/system/index';
import { hasScope, toAuthorizerContext } from '../lib/auth/principal';
import { AppError } from '../lib/errors';
import { errorBody, type HttpEvent, type HttpResult, JSON_HEADERS } from '../lib/http/http';
import { type FunctionGroup, ROUTES, type Route, routeKey } from '../lib/http/routes';
import { services } from '../lib/runtime';
import type { EventFeed } from './event-stream';
import { type LocalAwsCredentials, verifySigV4 } from './sigv4';

type GroupHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;
const GROUPS: Record<FunctionGroup, GroupHandler> = {
  system,
  builds,
  states,
  artifacts,
  identity,
  oidc,
  reference,
  dashboard,
  lineage,
  provenance,
};

/** API Gateway's own payload limit; the handlers enforce the much smaller API limit themselves. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const LAMBDA_TIMEOUT_MS = 29_000;

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  params: string[];
}

const compiled: CompiledRoute[] = ROUTES.map((route) => {
  const params: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), params };
});

export interface Gateway {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export interface GatewayOptions {
  port?: number;
  host?: string;
  /** Called with one access-log line per request. */
  log?: (line: string) => void;
  /** Local AWS credentials SigV4-signed requests are verified against (the IAM API's stand-in). */
  sigv4?: LocalAwsCredentials;
  /** Published events, served at GET /local/events (local only: the web dashboard's live feed). */
  events?: EventFeed;
  /**
   * Awaited after a handler answered a request that may have written, before the answer is sent:
   * the local store's commit barrier (local/stack.ts), so nothing is acknowledged that a crash of
   * the store could still lose.
   */
  settle?: () => Promise<void>;
}

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    handle(req, res, options.sigv4, options.events, options.settle)
      .catch((error) => {
        console.error('gateway error', error);
        if (!res.headersSent)
          send(res, 502, { ...JSON_HEADERS }, `${JSON.stringify({ message: 'Internal Server Error' })}\n`);
      })
      .finally(() => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        options.log?.(`${req.method} ${req.url} ${res.statusCode} ${ms.toFixed(1)}ms`);
      });
  });
  // Requests Node's HTTP parser refuses (headers or URL over 16 KB, malformed request lines) never
  // reach a handler: answer them in the same JSON error shape, as API Gateway answers with its own.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = jsonText(
      errorBody(
        tooLarge
          ? new AppError('payload_too_large', 'Request headers or URL are too large (16 KB at most)', {})
          : new AppError('validation_error', 'Malformed HTTP request', {}),
      ),
    );
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const headers = Object.entries({
      ...JSON_HEADERS,
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    })
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n');
    socket.end(`HTTP/1.1 ${status}\r\n${headers}\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  sigv4: LocalAwsCredentials | undefined,
  events: EventFeed | undefined,
  settle: (() => Promise<void>) | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = (req.method ?? 'GET').toUpperCase();
  if (url.pathname === LOCAL_EVENTS_PATH && method === 'GET' && events) {
    await drain(req);
    return serveEvents(req, res, url, events);
  }
  // The seeds write `/platforms/`: a trailing slash reaches the same route (see docs/API.md).
  const match = matchRoute(method, withoutTrailingSlash(url.pathname));
  // A page (its links are relative) is redirected to its own path, or /docs/ would load its assets
  // from /docs/docs/…; API calls are answered where they are, since the seeds' curl has no -L.
  if (
    match.kind === 'found' &&
    url.pathname !== withoutTrailingSlash(url.pathname) &&
    match.route.responses[200]?.contentType === 'text/html'
  ) {
    await drain(req);
    return send(res, 308, { location: `${withoutTrailingSlash(url.pathname)}${url.search}` }, '');
  }
  if (match.kind !== 'found') {
    const error =
      match.kind === 'method'
        ? new AppError('method_not_allowed', `${method} is not allowed on ${url.pathname}`, {
            allow: match.allow,
          })
        : new AppError('not_found', `No route for ${method} ${url.pathname}`);
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (match.kind === 'method') headers.allow = match.allow.join(', ');
    await drain(req);
    return send(res, error.status, headers, jsonText(errorBody(error)));
  }

  const body = await readBody(req);
  if (body === 'too_large') {
    const error = new AppError('payload_too_large', `Request body exceeds ${GATEWAY_MAX_BODY} bytes`, {});
    return send(res, 413, { ...JSON_HEADERS }, jsonText(errorBody(error)));
  }
  const event = toEvent(req, url, method, match.route, match.pathParameters, body);
  if (match.route.scope !== 'none' && event.headers['authorization']?.startsWith('AWS4-HMAC-SHA256')) {
    // What API Gateway's AWS_IAM authorizer does before any function runs.
    const verdict = await verifySigV4(
      {
        method,
        rawPath: url.pathname,
        query: url.searchParams,
        headers: event.headers as Record<string, string>,
        body,
      },
      sigv4,
    );
    if (!verdict.ok) {
      const error = new AppError('unauthorized', verdict.message, { scheme: 'AWS4-HMAC-SHA256' });
      return send(res, 401, { ...JSON_HEADERS }, jsonText(errorBody(error)));
    }
    (event.requestContext as { authorizer?: unknown }).authorizer = {
      iam: {
        accessKey: verdict.accessKeyId,
        accountId: '000000000000',
        userArn: `arn:aws:iam::000000000000:user/${verdict.accessKeyId}`,
      },
    };
  } else if (match.route.scope !== 'none') {
    // What the Lambda authorizer does in AWS: verify the key or token and pass the principal in
    // requestContext.authorizer.lambda. Locally a refusal keeps its detailed JSON error.
    try {
      const principal = await services().authenticator.authenticate(event.headers);
      (event.requestContext as { authorizer?: unknown }).authorizer = {
        lambda: toAuthorizerContext(principal),
      };
    } catch (caught) {
      if (!(caught instanceof AppError)) throw caught;
      // Refused before any function ran: an outage here cannot have applied anything.
      const error =
        caught.code === 'unavailable'
          ? new AppError('unavailable', caught.message, {
              ...caught.details,
              may_have_applied: false,
              retry: 'nothing was changed; repeat the request',
            })
          : caught;
      return send(
        res,
        error.status,
        { ...JSON_HEADERS, ...(error.code === 'unavailable' ? { 'retry-after': '1' } : {}) },
        jsonText(errorBody(error)),
      );
    }
  }
  const requestId = event.requestContext.requestId;
  const result = await GROUPS[match.route.group](event, lambdaContext(match.route.group, requestId));
  if (method !== 'GET' && method !== 'HEAD' && settle) await settle();
  const headers: Record<string, string> = { 'apigw-requestid': requestId };
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  const payload =
    result.body === undefined
      ? ''
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : result.body;
  send(res, result.statusCode ?? 200, headers, payload);
}

const LOCAL_EVENTS_PATH = '/local/events';

const jsonText = (value: unknown) => `${JSON.stringify(value)}\n`;

/**
 * GET /local/events?after=<seq>: events published since `seq`, for the web dashboard. Only the
 * local gateway has it (in AWS, subscribe to the EventBridge bus); it needs a key with `read`.
 */
async function serveEvents(req: IncomingMessage, res: ServerResponse, url: URL, feed: EventFeed) {
  const jsonHeaders = { ...JSON_HEADERS, 'cache-control': 'no-store' };
  try {
    const principal = await services().authenticator.authenticate(
      Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
      ),
    );
    if (!hasScope(principal, 'read'))
      throw new AppError('forbidden', `GET ${LOCAL_EVENTS_PATH} needs the 'read' scope`, {
        required_scope: 'read',
      });
    const after = Number(url.searchParams.get('after') ?? '0');
    if (!Number.isInteger(after) || after < 0)
      throw new AppError('validation_error', 'after must be a non-negative integer', { query: 'after' });
    send(res, 200, jsonHeaders, jsonText(feed.after(after)));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    send(res, error.status, jsonHeaders, jsonText(errorBody(error)));
  }
}

type Match =
  | { kind: 'found'; route: Route; pathParameters: Record<string, string> }
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

function matchRoute(method: string, path: string): Match {
  const allow: string[] = [];
  for (const { route, pattern, params } of compiled) {
    const m = pattern.exec(path);
    if (!m) continue;
    if (route.method !== method) {
      allow.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    params.forEach((name, i) => {
      pathParameters[name] = safeDecode(m[i + 1]!);
    });
    return { kind: 'found', route, pathParameters };
  }
  return allow.length ? { kind: 'method', allow } : { kind: 'none' };
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  route: Route,
  pathParameters: Record<string, string>,
  body: Buffer,
): HttpEvent {
  // Payload v2 joins repeated headers and query parameters with commas and lower-cases header names.
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const now = new Date();
  const requestId = randomUUID();
  const textual = isTextual(headers['content-type']);
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      requestId,
      routeKey: routeKey(route),
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
    },
    body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !textual,
  };
}

/** API Gateway passes text payloads as is and base64-encodes the rest. */
function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|.*\+json|x-www-form-urlencoded|xml))/i.test(contentType);
}

function lambdaContext(group: FunctionGroup, requestId: string): Context {
  const deadline = Date.now() + LAMBDA_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `buildstate-${group}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:buildstate-${group}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/buildstate-${group}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY) return 'too_large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

import { handler as builds } from '../../../../functions/builds/index';
import { handler as states } from '../../../../functions/states/index';
import { handler as system } from '../../../../functions/system/index';
import { stateReportSchema } from '../../../../lib/builds/build.schema';
import { AppError } from '../../../../lib/errors';
import { httpHandler, type RouteHandler } from '../../../../lib/http/handler';
import { parse, parseIfMatch } from '../../../../lib/http/http';
import { ROUTES, routeKey } from '../../../../lib/http/routes';
import { httpEvent, lambdaContext } from '../../../helpers/events';

const body = (result: { body?: string }) => JSON.parse(result.body ?? 'null');
/** Binds a handler to the table's route for this method and path, as dispatch() does, and calls it. */
const serve = (handler: RouteHandler, method: string, path: string, context = lambdaContext) => {
  const route = ROUTES.find((r) => routeKey(r) === `${method} ${path}`);
  if (!route) throw new Error(`no route ${method} ${path}`);
  return handler(route)(httpEvent(method, path), context);
};

describe('http wrapper', () => {
  it('answers /health without credentials or a table', async () => {
    const result = await system(httpEvent('GET', '/health'), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({ status: 'ok' });
  });

  it('rejects malformed JSON with a 400 in the error format, before touching anything', async () => {
    const result = await builds(httpEvent('POST', '/builds', { body: '{"platform_id": ' }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(body(result)).toEqual({
      error: { code: 'validation_error', message: expect.stringContaining('not valid JSON'), details: {} },
    });
  });

  it('decodes base64 bodies as API Gateway sends binary payloads', async () => {
    const encoded = Buffer.from('not json').toString('base64');
    const result = await builds(
      httpEvent('POST', '/builds', { body: encoded, isBase64Encoded: true }),
      lambdaContext,
    );
    expect(body(result).error.code).toBe('validation_error');
  });

  it('rejects bodies over 64 KB with 413', async () => {
    const big = JSON.stringify({ description: 'x'.repeat(65 * 1024) });
    const result = await states(httpEvent('POST', '/builds/{id}/states', { body: big }), lambdaContext);
    expect(result.statusCode).toBe(413);
    expect(body(result).error).toMatchObject({ code: 'payload_too_large', details: { limit_bytes: 65536 } });
  });

  it('answers an unexpected error with a generic 500 that leaks nothing', async () => {
    const failing = httpHandler(async () => {
      throw new Error('password=hunter2');
    });
    const result = await serve(failing, 'GET', '/health', lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('hunter2');
    expect(body(result).error).toMatchObject({ code: 'internal_error', details: { request_id: 'req-1' } });
  });

  it('answers a request that reaches the function deadline with 503, saying a change may have been applied', async () => {
    const stuck = httpHandler(() => new Promise(() => undefined));
    const deadline = { ...lambdaContext, getRemainingTimeInMillis: () => 1_050 };
    const change = await serve(stuck, 'POST', '/auth/token', deadline);
    expect(change.statusCode).toBe(503);
    expect(change.headers).toMatchObject({ 'retry-after': '1', 'x-content-type-options': 'nosniff' });
    expect(body(change).error).toMatchObject({
      code: 'unavailable',
      details: { may_have_applied: true, retry: expect.stringContaining('Idempotency-Key') },
    });
    const read = await serve(stuck, 'GET', '/health', deadline);
    expect(read.statusCode).toBe(503);
    expect(body(read).error.details).toEqual({});
  });

  it('says a timed-out store call on a change may have been applied, and a refused connection not', async () => {
    const timedOut = httpHandler(async () => {
      throw new AppError(
        'unavailable',
        'store down',
        {},
        {
          cause: Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
        },
      );
    });
    expect(body(await serve(timedOut, 'POST', '/auth/token', lambdaContext)).error.details).toMatchObject({
      may_have_applied: true,
    });
    const refused = httpHandler(async () => {
      throw new AppError(
        'unavailable',
        'store down',
        {},
        {
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        },
      );
    });
    expect(body(await serve(refused, 'POST', '/auth/token', lambdaContext)).error.details).toEqual({});
  });

  it('ends every JSON body with a newline', async () => {
    const result = await system(httpEvent('GET', '/health'), lambdaContext);
    expect(result.body?.endsWith('}\n')).toBe(true);
  });

  it('answers an outage with 503 and Retry-After', async () => {
    const down = httpHandler(async () => {
      throw new AppError('unavailable', 'store down');
    });
    const result = await serve(down, 'GET', '/health', lambdaContext);
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'retry-after': '1' });
  });

  it('answers a route that is not in the function group with 404', async () => {
    const result = await builds(httpEvent('GET', '/nope'), lambdaContext);
    expect(result.statusCode).toBe(404);
  });
});

describe('route table', () => {
  it('gives every route a unique method and path', () => {
    const keys = ROUTES.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('leaves only the pages, the API description, /health, the token exchanges and the signing public key open', () => {
    expect(ROUTES.filter((r) => r.scope === 'none').map(routeKey)).toEqual([
      'GET /',
      // The dashboard page's own script and style sheet (no data: the page asks for a key).
      'GET /web/{asset}',
      'GET /openapi.json',
      'GET /docs',
      'GET /docs/{asset}',
      'GET /health',
      'POST /auth/token',
      // Holding the refresh token is the credential of these two.
      'POST /auth/refresh',
      'POST /auth/revoke',
      // The CI job's OIDC token is the credential (a trust policy must match it).
      'POST /auth/oidc',
      // A public key: anyone may verify provenance (docs/PROVENANCE.md).
      'GET /.well-known/buildstate-signing-key.pem',
    ]);
  });
});

describe('parse', () => {
  it('lists every problem with its path in one validation error', () => {
    try {
      parse(stateReportSchema, { state_code: 500, status: 'nope', extra: 1 }, 'body');
      throw new Error('expected a validation error');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      const e = error as AppError;
      expect(e.code).toBe('validation_error');
      expect(e.message).toMatch(/state_code/);
      expect(e.message).toMatch(/status/);
      expect(e.message).toMatch(/unknown field\(s\): extra/);
      expect(e.details.issues).toHaveLength(3);
    }
  });

  it('requires a body where one is expected', () => {
    expect(() => parse(stateReportSchema, undefined, 'body')).toThrow('A JSON object body is required');
  });
});

describe('parseIfMatch', () => {
  it.each([
    ['3', 3],
    ['"3"', 3],
    ['W/"12"', 12],
  ])('reads %s as version %i', (header, version) => {
    expect(parseIfMatch(header)).toBe(version);
  });

  it('rejects anything else', () => {
    expect(() => parseIfMatch('*')).toThrow(AppError);
    expect(parseIfMatch(undefined)).toBeUndefined();
  });
});

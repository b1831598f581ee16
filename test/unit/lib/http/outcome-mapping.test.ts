/**
 * Where statuses come from: services answer domain results (lib/outcome.ts) and the route table
 * maps each outcome to a status; path parameters and X-Lease-Id are checked with what the route
 * declares. Idempotency records keep the result, and read the older `{status, body}` ones.
 */
import fc from 'fast-check';
import { AppError } from '../../../../lib/errors';
import { fromOutcome, leaseIdHeader, pathParam, stateCodeParam } from '../../../../lib/http/handler';
import type { HttpRequest } from '../../../../lib/http/http';
import { LEASE_ID_HEADER_PATTERN, type Route, statusFor } from '../../../../lib/http/route';
import { ROUTES, routeKey } from '../../../../lib/http/routes';
import { readRecord } from '../../../../lib/idempotency/idempotency.repository';
import { leaseIdSchema } from '../../../../lib/leases/lease.schema';

const route = (key: string): Route => {
  const found = ROUTES.find((r) => routeKey(r) === key);
  if (!found) throw new Error(`no route ${key}`);
  return found;
};

const request = (key: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  ({ route: route(key), params, header: (name: string) => headers[name.toLowerCase()] }) as HttpRequest;

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError)
      return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('no refusal');
};

describe('outcome → status (the route table)', () => {
  it('answers `created` with the response that names it, and a plain result with 200', () => {
    expect(statusFor(route('POST /builds'), 'created')).toBe(201);
    expect(statusFor(route('POST /builds/{id}/states'), 'created')).toBe(201);
    expect(statusFor(route('POST /builds/{id}/states/{code}/artifacts'), 'created')).toBe(201);
    for (const key of ['POST /builds/{id}/lease', 'POST /api-keys', 'POST /users', 'POST /trust-policies'])
      expect(statusFor(route(key), 'created')).toBe(201);
    expect(statusFor(route('POST /builds/{id}/cancel'), undefined)).toBe(200);
    expect(statusFor(route('GET /builds/{id}'), undefined)).toBe(200);
  });

  it('answers `unchanged` with 200 whether or not the route names it', () => {
    expect(statusFor(route('POST /builds/{id}/images'), 'unchanged')).toBe(200);
    expect(statusFor(route('POST /builds/{id}/images'), 'created')).toBe(201);
    expect(statusFor(route('POST /builds/{id}/states/{code}/artifacts'), 'unchanged')).toBe(200);
  });

  it('refuses to answer a status its route does not declare (the document would lie)', () => {
    expect(() => statusFor(route('POST /builds'), undefined)).toThrow(
      "POST /builds declares no response for the outcome 'plain' (200)",
    );
  });

  it('names each outcome on at most one status of a route, and only on a 2xx', () => {
    for (const r of ROUTES) {
      const named = Object.entries(r.responses).filter(([, response]) => response.outcome !== undefined);
      const outcomes = named.map(([, response]) => response.outcome);
      expect({ route: routeKey(r), unique: new Set(outcomes).size === outcomes.length }).toEqual({
        route: routeKey(r),
        unique: true,
      });
      for (const [status] of named) expect(Number(status)).toBeGreaterThanOrEqual(200);
      for (const [status] of named) expect(Number(status)).toBeLessThan(300);
    }
  });

  it('gives a result its status, its ETag and, on a replay, Idempotent-Replayed', () => {
    const req = request('POST /builds/{id}/states');
    expect(fromOutcome(req, { outcome: 'created', body: { id: 'b1' }, replayed: false, version: 3 })).toEqual(
      {
        status: 201,
        body: { id: 'b1' },
        headers: { etag: '"3"' },
      },
    );
    expect(fromOutcome(req, { outcome: 'created', body: { id: 'b1' }, replayed: true, version: 2 })).toEqual({
      status: 201,
      body: { id: 'b1' },
      headers: { etag: '"2"', 'idempotent-replayed': 'true' },
    });
    expect(fromOutcome(request('GET /builds/{id}/artifacts'), { body: { items: [] } })).toEqual({
      status: 200,
      body: { items: [] },
      headers: {},
    });
  });
});

describe('path parameters, as the route declares them', () => {
  it('names a bad build id, state code or artifact name as before', () => {
    const key = 'GET /builds/{id}/states/{code}/artifacts/{name}';
    const ok = { id: 'b-1', code: '42', name: 'disk.qcow2' };
    expect(refusal(() => pathParam(request(key, { ...ok, id: 'bad id!' }), 'id'))).toEqual({
      code: 'validation_error',
      message: "'bad id!' is not a valid build id",
      details: { path_parameter: 'id' },
    });
    for (const code of ['1e1', '101', '-1', ' 5', '0x10', ''])
      expect(refusal(() => stateCodeParam(request(key, { ...ok, code })))).toEqual({
        code: 'validation_error',
        message: `'${code}' is not a state code (an integer 0-100)`,
        details: { path_parameter: 'code' },
      });
    expect(refusal(() => pathParam(request(key, { ...ok, name: '.hidden' }), 'name'))).toEqual({
      code: 'validation_error',
      message: "'.hidden' is not a valid artifact name",
      details: { path_parameter: 'name' },
    });
    expect(stateCodeParam(request(key, ok))).toBe(42);
    expect(pathParam(request(key, ok), 'name')).toBe('disk.qcow2');
  });

  it('names other parameters by their name', () => {
    const key = 'GET /channels/{name}';
    expect(refusal(() => pathParam(request(key, { name: 'Not A Channel!' }), 'name'))).toMatchObject({
      message: "'Not A Channel!' is not a valid name",
    });
  });

  it('refuses, as a bug, a parameter the route does not declare', () => {
    expect(() => pathParam(request('GET /builds/{id}', { id: 'b1' }), 'code')).toThrow(
      'GET /builds/{id} reads path parameter code, which it does not declare',
    );
  });
});

describe('X-Lease-Id', () => {
  it("accepts exactly what the leases' own schema accepts", () => {
    const ulidChar = fc.constantFrom(...'0123456789ABCDEFGHJKMNPQRSTVWXYZ'.split(''));
    const almost = fc.oneof(
      fc.string(),
      fc.array(ulidChar, { minLength: 25, maxLength: 27 }).map((c) => c.join('')),
      fc
        .array(fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcz'.split('')), {
          minLength: 26,
          maxLength: 26,
        })
        .map((c) => c.join('')),
    );
    fc.assert(
      fc.property(almost, (value) => {
        expect(LEASE_ID_HEADER_PATTERN.test(value)).toBe(leaseIdSchema.safeParse(value).success);
      }),
    );
  });

  it('refuses a malformed header with a 400 naming it', () => {
    const req = request('PUT /builds/{id}/lease', { id: 'b1' }, { 'x-lease-id': 'not-a-lease' });
    expect(refusal(() => leaseIdHeader(req))).toMatchObject({
      code: 'validation_error',
      details: { header: 'X-Lease-Id' },
    });
  });
});

describe('idempotency records', () => {
  it('read as the result they keep', () => {
    const body = { id: 'b1', version: 2 };
    expect(readRecord(JSON.stringify({ outcome: 'created', body }))).toEqual({ outcome: 'created', body });
    expect(readRecord(JSON.stringify({ body }))).toEqual({ body });
  });

  it('written as HTTP answers by the previous release read as the same outcome', () => {
    const body = { id: 'b1', status: 'running' };
    expect(readRecord(JSON.stringify({ status: 201, body }))).toEqual({ outcome: 'created', body });
    expect(readRecord(JSON.stringify({ status: 200, body }))).toEqual({ body });
  });
});

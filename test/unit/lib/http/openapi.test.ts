/** The OpenAPI document: generated from the route table, complete, and what the function serves. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../../../../lib/errors';
import { openApiDocument, SCOPE_EXTENSION } from '../../../../lib/http/openapi';
import { ROUTES } from '../../../../lib/http/routes';
import { OPENAPI_FILE, ResponseChecker } from '../../../helpers/openapi';

const { version } = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8'));
const doc = openApiDocument({ version });
type Operation = {
  operationId: string;
  [SCOPE_EXTENSION]: string;
  security: Record<string, string[]>[];
  parameters?: { $ref?: string; name?: string; in?: string }[];
  responses: Record<string, unknown>;
};
const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    key: `${method.toUpperCase()} ${path}`,
    op: op as Operation,
  })),
);

it('is the document npm run openapi wrote (the file the dashboard function bundles)', () => {
  expect(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))).toEqual(doc);
});

it('is OpenAPI 3.1 with every route of the table, and nothing else, each with its scope', () => {
  expect(doc.openapi).toBe('3.1.0');
  expect(operations.map((o) => `${o.key} ${o.op[SCOPE_EXTENSION]}`).sort()).toEqual(
    ROUTES.map((r) => `${r.method} ${r.path} ${r.scope}`).sort(),
  );
  for (const route of ROUTES) {
    const op = doc.paths[route.path]![route.method.toLowerCase()] as Operation;
    expect(op.operationId).toBe(route.operationId ?? route.handler);
    expect(op.security).toEqual(
      route.scope === 'none'
        ? []
        : [{ ApiKey: [route.scope] }, { BearerJwt: [route.scope] }, { SigV4: [route.scope] }],
    );
    for (const status of Object.keys(route.responses)) expect(op.responses).toHaveProperty(status);
    for (const name of Object.keys(route.request?.path ?? {}))
      expect(op.parameters).toContainEqual(expect.objectContaining({ name, in: 'path' }));
  }
});

it('has the three security schemes, one error schema with every code, and the headers', () => {
  const components = doc.components as Record<string, Record<string, Record<string, unknown>>>;
  expect(components.securitySchemes).toMatchObject({
    ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    BearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    SigV4: { type: 'apiKey', in: 'header', name: 'Authorization' },
  });
  const error = components.schemas!.Error as {
    properties: { error: { properties: { code: { enum: string[] } } } };
  };
  expect(error.properties.error.properties.code.enum).toEqual(ERROR_CODES);
  expect(Object.values(components.parameters!).map((p) => p.name)).toEqual(
    expect.arrayContaining(['Idempotency-Key', 'If-Match', 'X-Lease-Id']),
  );
  expect(Object.keys(components.headers!)).toEqual(expect.arrayContaining(['ETag', 'RetryAfter']));
  const report = doc.paths['/builds/{id}/states']!.post as Operation;
  expect(report.parameters?.map((p) => p.$ref)).toEqual(
    expect.arrayContaining([
      '#/components/parameters/IdempotencyKey',
      '#/components/parameters/IfMatch',
      '#/components/parameters/LeaseId',
    ]),
  );
  expect(doc.paths['/ready']!.get!.responses).toHaveProperty('503.headers.Retry-After');
});

describe('the response check every integration test goes through', () => {
  const checker = new ResponseChecker(doc);
  const health = { status: 'ok', service: 'buildstate', time: '2026-12-01T09:00:00.000Z' };

  it('accepts an answer the document declares', () => {
    expect(() => checker.check('GET', '/health', 200, 'application/json', health)).not.toThrow();
  });

  it('refuses an undocumented field, a missing field, an undeclared status and a wrong type', () => {
    expect(() => checker.check('GET', '/health', 200, 'application/json', { ...health, extra: 1 })).toThrow(
      /additional properties/,
    );
    expect(() => checker.check('GET', '/health', 200, 'application/json', { status: 'ok' })).toThrow(
      /required/,
    );
    expect(() => checker.check('GET', '/builds', 418, 'application/json', {})).toThrow(/not declared/);
    expect(() => checker.check('GET', '/health', 200, 'text/html', health)).toThrow(/content-type/);
  });

  it('refuses an error body whose code is not one of lib/errors.ts', () => {
    const bad = { error: { code: 'oops', message: 'x', details: {} } };
    expect(() => checker.check('GET', '/builds/b1', 404, 'application/json', bad)).toThrow(/allowed values/);
  });
});

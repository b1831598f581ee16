/**
 * Checks HTTP answers against the OpenAPI document the service serves (.build/openapi.json, made
 * by `npm run openapi`): the status must be declared for that operation, and a JSON body must be
 * valid against its schema. View schemas are strict (additionalProperties: false), so an
 * undocumented field fails as surely as an undocumented status. Validation is by ajv (JSON Schema
 * 2020-12, the dialect of OpenAPI 3.1), against the document itself rather than the zod sources,
 * so the generation step is under test too.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

export const OPENAPI_FILE = join(__dirname, '../../.build/openapi.json');

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export class ResponseChecker {
  readonly document: Json & { paths: Record<string, Record<string, Operation>> };
  private readonly ajv: Ajv2020;
  private readonly routes: { method: string; template: string; pattern: RegExp; params: number }[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))) {
    this.document = document;
    this.ajv = new Ajv2020({ strict: true, allErrors: true });
    this.ajv.addFormat('date-time', ISO_UTC);
    this.ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
    // The components are reached by $ref ("#/components/schemas/X") inside this one schema.
    this.ajv.addKeyword({ keyword: 'components' });
    this.ajv.addSchema({ $id: 'openapi', components: (document as { components: unknown }).components });
    for (const [template, methods] of Object.entries(this.document.paths)) {
      const source = template.replace(/\{\w+\}/g, '[^/]+');
      for (const method of Object.keys(methods))
        this.routes.push({
          method: method.toUpperCase(),
          template,
          pattern: new RegExp(`^${source}$`),
          params: (template.match(/\{/g) ?? []).length,
        });
    }
    // Literal segments win over parameters, as in API Gateway.
    this.routes.sort((a, b) => a.params - b.params);
  }

  /** The operation a request lands on, or undefined when the document has none. */
  operation(method: string, path: string): { template: string; operation: Operation } | undefined {
    // The local gateway answers a path with a trailing slash as the path without it (the seeds' curl).
    const bare = path.split('?')[0]!.replace(/(.)\/+$/, '$1');
    const route = this.routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(bare));
    if (!route) return undefined;
    return {
      template: route.template,
      operation: this.document.paths[route.template]![route.method.toLowerCase()]!,
    };
  }

  /**
   * Throws when the answer breaks the document. A request no operation matches must be answered
   * with the shared error body (404 no such route, 405 no such method).
   */
  check(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
    const where = `${method} ${path} → ${status}`;
    // The local gateway's own feed for the web page (npm start only) is not part of the API.
    if (path.startsWith('/local/')) return;
    const found = this.operation(method, path);
    if (!found) {
      if (status !== 404 && status !== 405)
        throw new Error(`${where}: no operation of the OpenAPI document matches this request`);
      this.validate(where, { $ref: 'openapi#/components/schemas/Error' }, body);
      return;
    }
    // BUILDSTATE_OPENAPI_COVERAGE=<file>: one "operationId status" line per checked answer, to see
    // which declared answers no test reaches.
    if (process.env.BUILDSTATE_OPENAPI_COVERAGE)
      appendFileSync(process.env.BUILDSTATE_OPENAPI_COVERAGE, `${found.operation.operationId} ${status}\n`);
    const response = found.operation.responses[String(status)];
    if (!response)
      throw new Error(
        `${where}: status ${status} is not declared for ${method} ${found.template} (${found.operation.operationId}); declared: ${Object.keys(found.operation.responses).join(', ')}`,
      );
    const [mediaType, media] = Object.entries(response.content ?? {})[0] ?? [];
    if (!mediaType) return;
    if (!contentType?.startsWith(mediaType))
      throw new Error(`${where}: content-type ${contentType}, the document says ${mediaType}`);
    if (mediaType === 'application/json' && media?.schema) this.validate(where, media.schema, body);
  }

  private validate(where: string, schema: Json, body: unknown): void {
    const key = JSON.stringify(schema);
    let validate = this.validators.get(key);
    if (!validate) {
      const ref = typeof schema.$ref === 'string' ? schema.$ref.replace(/^#/, 'openapi#') : undefined;
      validate = this.ajv.compile(ref ? { $ref: ref } : schema);
      this.validators.set(key, validate);
    }
    if (!validate(body)) {
      const problems = (validate.errors ?? [])
        .map(
          (e) =>
            `${e.instancePath || '(body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
        )
        .join('; ');
      throw new Error(`${where}: the body does not match the document: ${problems}\n${JSON.stringify(body)}`);
    }
  }
}

let shared: ResponseChecker | undefined;
/** One checker per test file (compiled schemas are reused). */
export const responseChecker = (): ResponseChecker => {
  shared ??= new ResponseChecker();
  return shared;
};

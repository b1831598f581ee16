/**
 * Where GET /openapi.json finds its document: a file generated from the route table at build time
 * (`npm run openapi` → .build/openapi.json), never bundled (it is ~150 KB, half the dashboard
 * bundle). In Lambda it is beside the bundle (infra copies it there when it bundles the dashboard
 * function); anywhere else it is the project's .build/openapi.json, found from the project's
 * node_modules (as web/api-docs.ts finds Swagger UI's files).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function openApiFile(): string {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  if (taskRoot) return join(taskRoot, 'openapi.json');
  const nodeModules = dirname(dirname(require.resolve('swagger-ui-dist/package.json')));
  return join(dirname(nodeModules), '.build', 'openapi.json');
}

let text: string | undefined;

/** The document's text, read once per runtime. */
export function openApiText(): string {
  text ??= readFileSync(openApiFile(), 'utf8');
  return text;
}

/**
 * GET / and GET /web/{asset}: the web dashboard's files, built from web/dashboard/ by
 * `node scripts/build-web.mjs` (run by `npm install`, `npm start`, `npm run synth`) into .build/web.
 * In Lambda they are in web/ beside the bundle (infra copies them there when it bundles the
 * dashboard function); anywhere else in the project's .build/web, found from its node_modules (as
 * lib/http/openapi-file.ts finds .build/openapi.json). The page has no inline script or style, so
 * it runs under the same strict Content-Security-Policy as the API reference.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DASHBOARD_ASSETS } from '../lib/http/dashboard.routes';

export type DashboardAsset = (typeof DASHBOARD_ASSETS)[number];
type DashboardFile = DashboardAsset | 'index.html';

export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function dashboardDir(): string {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  if (taskRoot) return join(taskRoot, 'web');
  const nodeModules = dirname(dirname(require.resolve('swagger-ui-dist/package.json')));
  return join(dirname(nodeModules), '.build', 'web');
}

const CONTENT_TYPES: Record<DashboardFile, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};

const loaded = new Map<DashboardFile, string>();

/** A file's text and content type, read once per runtime. */
export function dashboardFile(name: DashboardFile): { text: string; contentType: string } {
  let text = loaded.get(name);
  if (text === undefined) {
    text = readFileSync(join(dashboardDir(), name), 'utf8');
    loaded.set(name, text);
  }
  return { text, contentType: CONTENT_TYPES[name] };
}

/**
 * GET /docs: the interactive API reference. Swagger UI's own files come from the swagger-ui-dist
 * package (served by the dashboard function at /docs/{asset}, never from a CDN), and the page's one
 * script is a file too, so the page runs under a CSP without inline script. Every URL is relative,
 * so the page works wherever the API is mounted.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { API_DOCS_ASSETS } from '../lib/http/routes';

export type ApiDocsAsset = (typeof API_DOCS_ASSETS)[number];

export const API_DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const API_DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BuildState API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/api-docs.js"></script>
</body>
</html>
`;

/**
 * The page's script. validatorUrl null: Swagger UI would otherwise send the document to an online
 * validator. "Try it out" sends the key or token typed into Authorize to this same origin only.
 */
const API_DOCS_SCRIPT = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.baseURI).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/**
 * Where Swagger UI's files are: in Lambda, beside the bundle (infra copies them there from the
 * package when it bundles the function); anywhere else, in the installed package itself.
 */
function swaggerUiDir(): string {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  if (taskRoot) return join(taskRoot, 'swagger-ui');
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

/** The files Swagger UI needs from swagger-ui-dist (infra/stateless-stack.ts copies exactly these). */
export const SWAGGER_UI_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;

const CONTENT_TYPES: Record<ApiDocsAsset, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'api-docs.js': 'text/javascript; charset=utf-8',
};

const loaded = new Map<ApiDocsAsset, string>();

/** An asset's text and content type, read once per runtime. */
export function apiDocsAsset(name: ApiDocsAsset): { text: string; contentType: string } {
  let text = loaded.get(name);
  if (text === undefined) {
    text = name === 'api-docs.js' ? API_DOCS_SCRIPT : readFileSync(join(swaggerUiDir(), name), 'utf8');
    loaded.set(name, text);
  }
  return { text, contentType: CONTENT_TYPES[name] };
}

// `npm start`: bundle the local runtime, then run it in this same process, so signals sent to
// `npm start` reach the code that stops DynamoDB Local (no intermediate shell to swallow them).

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleLocal } from './build-local.mjs';
import { buildOpenApi } from './build-openapi.mjs';
import { buildWeb } from './build-web.mjs';

const outfile = resolve('.build/local/start.mjs');
// The document the dashboard function serves at /openapi.json, from the route table as it is now.
await buildOpenApi();
// The web dashboard's page, style sheet and bundled script (.build/web).
await buildWeb();
await bundleLocal('local/start.ts', outfile);
process.setSourceMapsEnabled(true);
await import(pathToFileURL(outfile).href);

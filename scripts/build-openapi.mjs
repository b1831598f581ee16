// Generates the OpenAPI document from the route table into .build/openapi.json, the file the
// dashboard function bundles and serves at GET /openapi.json. Run by `npm install` (prepare),
// `npm start`, `npm test` and `npm run synth`, so the served document is always the code's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleLocal } from './build-local.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OPENAPI_FILE = join(root, '.build', 'openapi.json');

export async function buildOpenApi() {
  const generator = join(root, '.build', 'scripts', 'openapi.mjs');
  await bundleLocal(join(root, 'lib', 'http', 'openapi.ts'), generator);
  const { openApiDocument } = await import(`${pathToFileURL(generator).href}?t=${Date.now()}`);
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const text = `${JSON.stringify(openApiDocument({ version }))}\n`;
  mkdirSync(dirname(OPENAPI_FILE), { recursive: true });
  writeFileSync(OPENAPI_FILE, text);
  return text;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = await buildOpenApi();
  console.log(`${OPENAPI_FILE}: ${Buffer.byteLength(text)} bytes`);
}

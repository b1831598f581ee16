// Renders the event schemas (lib/events/event.schema.ts) into docs/EVENTS.md between its
// "BEGIN/END GENERATED: event schemas" markers (`npm run docs:events`). A unit test keeps the
// file equal to this output, so the doc and the published schemas come from one source.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleLocal } from './build-local.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docFile = join(root, 'docs', 'EVENTS.md');
const generator = join(root, '.build', 'scripts', 'event-schemas.mjs');
await bundleLocal(join(root, 'lib', 'events', 'event.schema.ts'), generator);
const { eventsMarkdown } = await import(pathToFileURL(generator).href);
const doc = readFileSync(docFile, 'utf8');
const start = doc.indexOf('<!-- BEGIN GENERATED: event schemas');
const endMarker = '<!-- END GENERATED: event schemas -->\n';
const end = doc.indexOf(endMarker);
if (start < 0 || end < 0) throw new Error(`${docFile} lacks the generated-section markers`);
writeFileSync(docFile, doc.slice(0, start) + eventsMarkdown() + doc.slice(end + endMarker.length));
console.log(`${docFile}: event schemas rendered`);

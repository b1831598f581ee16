/** docs/API.md's route table is the reference users read: it must list exactly the route table. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../../lib/http/routes';

it('lists every route with its scope in docs/API.md, and nothing else', () => {
  const doc = readFileSync(join(__dirname, '../../docs/API.md'), 'utf8');
  const documented = [
    ...doc.matchAll(/^\| (GET|POST|PUT|DELETE) \| `([^`]+)` \| (none|read|write|admin) \|/gm),
  ].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
  expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path} ${r.scope}`).sort());
});

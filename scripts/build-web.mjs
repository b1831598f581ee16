// Builds the web dashboard into .build/web/: web/dashboard/dashboard.ts bundled by esbuild into
// dashboard.js, beside the page (index.html) and its style sheet (dashboard.css). The dashboard
// function serves these files (web/dashboard-files.ts): locally from .build/web, in Lambda from
// web/ beside its bundle (infra copies them there). Run by `npm install` (prepare), `npm start`
// and `npm run synth`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_DIR = join(root, '.build', 'web');

export async function buildWeb() {
  const src = join(root, 'web', 'dashboard');
  mkdirSync(WEB_DIR, { recursive: true });
  await build({
    entryPoints: [join(src, 'dashboard.ts')],
    outfile: join(WEB_DIR, 'dashboard.js'),
    bundle: true,
    platform: 'browser',
    target: 'es2020',
    format: 'iife',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const name of ['index.html', 'dashboard.css']) copyFileSync(join(src, name), join(WEB_DIR, name));
  return WEB_DIR;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`${await buildWeb()}: index.html, dashboard.css, dashboard.js`);
}

// Bundles the resource's check, in and out (src/*.ts, with the bldst client and zod) into files
// that need no node_modules: dist/{check,in,out}.cjs for opt/resource/* here, or, with
// `--standalone DIR`, executables DIR/check, DIR/in, DIR/out (what the Dockerfile puts in /opt/resource).
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--standalone');
const standalone = at > 0 ? resolve(process.argv[at + 1] ?? '') : undefined;
const outdir = standalone ?? join(here, 'dist');
mkdirSync(outdir, { recursive: true });

const names = ['check', 'in', 'out'];
await build({
  entryPoints: Object.fromEntries(names.map((name) => [name, join(here, 'src', `${name}.ts`)])),
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
if (standalone) {
  for (const name of names) {
    rmSync(join(outdir, name), { force: true });
    renameSync(join(outdir, `${name}.cjs`), join(outdir, name));
    chmodSync(join(outdir, name), 0o755);
  }
}

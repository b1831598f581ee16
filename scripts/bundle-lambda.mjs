// node scripts/bundle-lambda.mjs <entry> <outdir>: one Lambda bundle (<outdir>/index.mjs and its
// source map) with the esbuild options and plugins of infra/bundling/lambda-bundling.ts. CDK's
// local bundling (infra/constructs/service-function.ts) runs it synchronously for each function:
// its tryBundle cannot wait for a promise, and esbuild's buildSync takes no plugins.
//
// The options module is TypeScript: it is compiled here (its packages left external) into
// .build/bundling/, under a name that is its content's hash, so concurrent runs share it safely.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const [entry, outdir] = process.argv.slice(2);
if (!entry || !outdir) {
  console.error('usage: node scripts/bundle-lambda.mjs <entry> <outdir>');
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const compiled = await build({
  entryPoints: [join(root, 'infra/bundling/lambda-bundling.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  write: false,
  logLevel: 'error',
});
const code = compiled.outputFiles[0].text;
const module = join(
  root,
  '.build',
  'bundling',
  `${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`,
);
if (!existsSync(module)) {
  mkdirSync(dirname(module), { recursive: true });
  const temp = `${module}.${process.pid}`;
  writeFileSync(temp, code);
  renameSync(temp, module);
}
const { lambdaEsbuildOptions } = await import(pathToFileURL(module).href);
await build(lambdaEsbuildOptions(resolve(root, entry), join(outdir, 'index.mjs')));

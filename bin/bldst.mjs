#!/usr/bin/env node
// Launcher for the bundled CLI (dist/bldst.mjs, built by `npm run build:cli`, which `npm install`
// runs through `prepare`). If the bundle is missing (e.g. scripts were skipped), build it first.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'bldst.mjs');
if (!existsSync(bundle)) {
  const { buildCli } = await import(pathToFileURL(join(root, 'scripts', 'build-cli.mjs')).href);
  await buildCli();
}
await import(pathToFileURL(bundle).href);

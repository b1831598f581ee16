// Bundles a local entry point (gateway + real handlers, benchmarks) with esbuild so no TS loader is
// needed at run time. Packages stay external: node loads them from node_modules as installed.

import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export async function bundleLocal(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
    // Source uses require.resolve (it also runs as CommonJS under jest); give the ESM bundle a require.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleLocal(process.argv[2], process.argv[3]);
}

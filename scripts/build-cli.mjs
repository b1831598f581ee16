// Bundles the CLI into one file, dependencies included, so `bldst` starts without resolving
// node_modules. The version comes from package.json.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildCli() {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // Chunk names carry content hashes: drop the previous build's so dist/ holds one consistent set.
  rmSync(join(root, 'dist', 'chunks'), { recursive: true, force: true });
  await build({
    entryPoints: { bldst: join(root, 'cli', 'main.ts') },
    outdir: join(root, 'dist'),
    // Chunks: `--version` parses only the entry; each command loads what it imports.
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    define: { __BLDST_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await buildCli();

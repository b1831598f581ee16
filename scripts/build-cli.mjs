// Bundles the CLI into one file, dependencies included, so `bldst` starts without resolving
// node_modules. The version comes from package.json.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildCli() {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const result = await build({
    // Written below, each file by a rename: a bldst process running while dist/ is rebuilt (a test
    // file beside another, a developer's shell) never loads a half-written or deleted chunk.
    write: false,
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
  const chunks = join(root, 'dist', 'chunks');
  mkdirSync(chunks, { recursive: true });
  // Chunks first, the entry that imports them last.
  const files = [...result.outputFiles]
    .sort((a, b) => Number(a.path.includes('chunks')) - Number(b.path.includes('chunks')))
    .reverse();
  for (const file of files) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
  // Chunk names carry content hashes: drop the previous build's so dist/ holds one consistent set.
  const current = new Set(files.map((f) => f.path));
  for (const name of readdirSync(chunks))
    if (!current.has(join(chunks, name)) && !name.endsWith('.tmp'))
      rmSync(join(chunks, name), { force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await buildCli();

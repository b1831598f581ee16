// npm run package:cli — the two installable forms of bldst, for build servers without this repository:
//   dist/bldst                one executable (a Node.js single executable application: no Node.js needed),
//                             for the platform of the `node` it is made from (this one, or BLDST_SEA_NODE);
//   dist/bldst-<version>.tgz  an npm package with no runtime dependencies (`npm install -g` it; Node.js 20+).
// Neither is committed (dist/ is ignored). See docs/CLI.md#install.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildCli } from './build-cli.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const work = join(root, '.build', 'package-cli');
const { version, license, engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const say = (line) => process.stdout.write(`package:cli: ${line}\n`);

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
mkdirSync(dist, { recursive: true });

// 1. The executable. SEA runs one CommonJS script: bundle everything into it (no chunks).
const seaMain = join(work, 'bldst.cjs');
await build({
  entryPoints: [join(root, 'cli', 'main.ts')],
  outfile: seaMain,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  define: { __BLDST_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
const blob = join(work, 'sea-prep.blob');
// The node binary the executable is made from decides its platform: this machine's, or another
// one of the same Node.js version (e.g. the linux-arm64 build from nodejs.org) in BLDST_SEA_NODE.
const nodeBinary = process.env.BLDST_SEA_NODE || process.execPath;
writeFileSync(
  join(work, 'sea-config.json'),
  JSON.stringify({
    main: seaMain,
    output: blob,
    disableExperimentalSEAWarning: true,
    // V8's code cache of the script: starts as fast as `node` itself (without it, ~2.4x slower in
    // bench:cli). It is made by this node, so only for an executable of this node's platform.
    useCodeCache: !process.env.BLDST_SEA_NODE,
  }),
);
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
const exe = join(dist, 'bldst');
rmSync(exe, { force: true });
copyFileSync(nodeBinary, exe);
chmodSync(exe, 0o755);
const postject = join(
  dirname(createRequire(import.meta.url).resolve('postject/package.json')),
  'dist',
  'cli.js',
);
execFileSync(
  process.execPath,
  [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  // postject warns "Can't find string offset for section name '.note.100'" on Linux: harmless.
  { stdio: ['ignore', 'ignore', 'ignore'] },
);
say(`${exe} (from ${nodeBinary})`);

// 2. The npm package: the code-split bundle (the same one `npm install` builds), a launcher, and a
// package.json without dependencies: everything bldst needs is inside the bundle.
await buildCli();
const pkg = join(work, 'npm');
mkdirSync(join(pkg, 'bin'), { recursive: true });
execFileSync('cp', ['-R', join(dist, 'bldst.mjs'), join(dist, 'chunks'), pkg]);
writeFileSync(join(pkg, 'bin', 'bldst.mjs'), "#!/usr/bin/env node\nimport '../bldst.mjs';\n", {
  mode: 0o755,
});
writeFileSync(
  join(pkg, 'package.json'),
  `${JSON.stringify(
    {
      name: 'bldst',
      version,
      description: 'The BuildState command line: report and query build states from pipelines',
      license,
      type: 'module',
      engines,
      // bldst_cli: the name the seeds' CI examples call it by.
      bin: { bldst: 'bin/bldst.mjs', bldst_cli: 'bin/bldst.mjs' },
      files: ['bin', 'bldst.mjs', 'chunks'],
    },
    null,
    2,
  )}\n`,
);
writeFileSync(
  join(pkg, 'README.md'),
  '# bldst\n\nThe BuildState CLI. `bldst --help` lists the commands; the full guide is docs/CLI.md of the BuildState repository.\n',
);
const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
  cwd: pkg,
  encoding: 'utf8',
  env: { ...process.env, npm_config_offline: 'true', npm_config_loglevel: 'error' },
})
  .trim()
  .split('\n')
  .pop();
const tgz = join(dist, `bldst-${version}.tgz`);
renameSync(join(work, packed), tgz);
say(tgz);

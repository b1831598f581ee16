/**
 * npm run bench:bundles — what each Lambda ships and what its cold import costs.
 * Synthesizes with the pinned CDK CLI into a temp folder, then for each function bundle prints its
 * size (raw and gzip) and the median wall time of `node` importing it in a fresh process, next to
 * the same for `node -e 0` (the floor of starting Node at all), measured in the same run. The
 * samples are taken in rounds (the floor, then every function, RUNS times over), so a machine that
 * gets busier during the run slows the floor and the functions alike instead of skewing the last
 * ones. A probe of the fixed design with no BuildState code in it (bench/design-floor.ts: middy,
 * the Powertools logger, one zod/mini schema, the SigV4 signer, node:https), bundled with the
 * functions' esbuild options, is measured in the same rounds: what no function can go below. The
 * last lines say which functions meet #18's goals: ≤ 350 KB and ≤ 1.8× node -e 0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../infra/bundling/lambda-bundling';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const out = mkdtempSync(join(tmpdir(), 'bs-bench-cdk-'));

const GOAL_KB = 350;
const GOAL_RATIO = 1.8;

function sampleMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' } });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

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
    .map(([id, r]) => ({
      name: id.replace(/Function[0-9A-F]{8}$/, ''),
      file: join(out, r.Metadata!['aws:asset:path']!, 'index.mjs'),
    }));

  const probe = join(out, 'design-floor', 'index.mjs');
  await build(lambdaEsbuildOptions(join('bench', 'design-floor.ts'), probe));
  const floorArgs = ['-e', '0'];
  const importArgs = (file: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(file)})`];
  const floorTimes: number[] = [];
  const probeTimes: number[] = [];
  const times = functions.map(() => [] as number[]);
  for (let run = 0; run < RUNS; run++) {
    floorTimes.push(sampleMs(floorArgs));
    probeTimes.push(sampleMs(importArgs(probe)));
    functions.forEach(({ file }, k) => {
      times[k]!.push(sampleMs(importArgs(file)));
    });
  }
  const floor = median(floorTimes);

  console.log(
    `Lambda bundles (ESM, minified, dependencies bundled); cold import = median of ${RUNS} fresh node processes`,
  );
  console.log('function          size KB   gzip KB   cold import ms   vs node -e 0');
  const missed: string[] = [];
  functions.forEach(({ name, file }, k) => {
    const bytes = statSync(file).size;
    const gz = gzipSync(readFileSync(file)).length;
    const ms = median(times[k]!);
    const kb = bytes / 1024;
    if (kb > GOAL_KB) missed.push(`${name} is ${kb.toFixed(0)} KB`);
    if (ms / floor > GOAL_RATIO) missed.push(`${name} imports in ${(ms / floor).toFixed(2)}×`);
    console.log(
      `${name.padEnd(16)} ${kb.toFixed(0).padStart(8)}  ${(gz / 1024).toFixed(0).padStart(8)}  ${ms.toFixed(1).padStart(15)}  ${(ms / floor).toFixed(2).padStart(12)}x`,
    );
  });
  const probeMs = median(probeTimes);
  console.log(
    `design floor     ${(statSync(probe).size / 1024).toFixed(0).padStart(8)}  ${(gzipSync(readFileSync(probe)).length / 1024).toFixed(0).padStart(8)}  ${probeMs.toFixed(1).padStart(15)}  ${(probeMs / floor).toFixed(2).padStart(12)}x  (bench/design-floor.ts: no BuildState code)`,
  );
  console.log(`node -e 0 (floor)                            ${floor.toFixed(1).padStart(15)}`);
  console.log(
    missed.length === 0
      ? `goals met by all ${functions.length} functions: ≤ ${GOAL_KB} KB and ≤ ${GOAL_RATIO}× node -e 0`
      : `goals (≤ ${GOAL_KB} KB, ≤ ${GOAL_RATIO}× node -e 0) missed: ${missed.join('; ')}`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}

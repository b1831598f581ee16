/**
 * npm run bench:bundles — what each Lambda ships and what its cold import costs.
 * Synthesizes with the pinned CDK CLI into a temp folder, then for each function bundle prints its
 * size (raw and gzip) and the median wall time of `node` importing it in a fresh process, next to
 * the same for `node -e 0` (the floor of starting Node at all), measured in the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const out = mkdtempSync(join(tmpdir(), 'bs-bench-cdk-'));

function medianMs(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '' } });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
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

  const floor = medianMs(['-e', '0']);
  console.log(
    `Lambda bundles (ESM, minified, AWS SDK included); cold import = median of ${RUNS} fresh node processes`,
  );
  console.log('function          size KB   gzip KB   cold import ms   vs node -e 0');
  for (const { name, file } of functions) {
    const bytes = statSync(file).size;
    const gz = gzipSync(readFileSync(file)).length;
    const ms = medianMs(['--input-type=module', '-e', `await import(${JSON.stringify(file)})`]);
    console.log(
      `${name.padEnd(16)} ${(bytes / 1024).toFixed(0).padStart(8)}  ${(gz / 1024).toFixed(0).padStart(8)}  ${ms.toFixed(1).padStart(15)}  ${(ms / floor).toFixed(2).padStart(12)}x`,
    );
  }
  console.log(`node -e 0 (floor)                            ${floor.toFixed(1).padStart(15)}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}

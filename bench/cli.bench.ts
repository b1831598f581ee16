/**
 * npm run bench:cli — what the CLI costs a pipeline step. In one run, median wall time over fresh
 * processes of: `bldst --version` against `node -e 0`, and `bldst build add-state` against `curl`
 * sending the same request to the same local stack. With dist/bldst (npm run package:cli) the
 * single executable is measured too; BENCH_CLI_BASELINE=<path of another bin/bldst.mjs> adds that
 * build's add-state (e.g. an older version) to compare in the same run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalStack } from '../local/stack';
import { seedReferences } from './seed';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const KEY = 'bst_bench_cli_key';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

execFileSync(process.execPath, ['scripts/build-cli.mjs']);
const bin = join(process.cwd(), 'bin', 'bldst.mjs');
const exe = join(process.cwd(), 'dist', 'bldst');
const baseline = process.env.BENCH_CLI_BASELINE;
const stack = await startLocalStack({ bootstrapAdminKey: KEY, tableName: 'bench-cli' });
await seedReferences(stack.url, KEY, 'cli');
const env = {
  PATH: process.env.PATH ?? '',
  BUILDSTATE_API_URL: stack.url,
  BUILDSTATE_API_TOKEN: KEY,
  XDG_CONFIG_HOME: '/nonexistent',
};

/** Async on purpose: the gateway being measured runs in this process's event loop. */
function time(cmd: string, args: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env }, (error, _out, stderr) =>
      error
        ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`))
        : resolve(Number(process.hrtime.bigint() - start) / 1e6),
    ),
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function newBuild(): Promise<string> {
  const res = await fetch(`${stack.url}/builds`, {
    method: 'POST',
    headers: { 'x-api-key': KEY },
    body: JSON.stringify({ platform_id: 'bench', image_type_id: 'cli' }),
  });
  return ((await res.json()) as { id: string }).id;
}

try {
  const version: number[] = [];
  const bare: number[] = [];
  const sea: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await time(process.execPath, ['-e', '0']));
    version.push(await time(process.execPath, [bin, '--version']));
    if (existsSync(exe)) sea.push(await time(exe, ['--version']));
  }
  // Each tool reports on its own build: in_progress, completed, next code, …
  const viaCli = await newBuild();
  const viaCurl = await newBuild();
  const viaBaseline = await newBuild();
  const cli: number[] = [];
  const curl: number[] = [];
  const old: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const code = String(Math.floor(i / 2));
    const status = i % 2 === 0 ? 'in_progress' : 'completed';
    cli.push(
      await time(process.execPath, [
        bin,
        'build',
        'add-state',
        viaCli,
        '--state',
        code,
        '--status',
        status,
        '-q',
      ]),
    );
    curl.push(
      await time('curl', [
        '-sf',
        '-o',
        '/dev/null',
        '-X',
        'POST',
        `${stack.url}/builds/${viaCurl}/states`,
        '-H',
        `x-api-key: ${KEY}`,
        '-H',
        'content-type: application/json',
        '-H',
        `idempotency-key: bench-${i}`,
        '-d',
        JSON.stringify({ state_code: Number(code), status }),
      ]),
    );
    if (baseline)
      old.push(
        await time(process.execPath, [
          baseline,
          'build',
          'add-state',
          viaBaseline,
          '--state',
          code,
          '--status',
          status,
          '-q',
        ]),
      );
  }
  const f = (n: number) => n.toFixed(1).padStart(8);
  console.log(`bldst start-up and one report, median of ${RUNS} fresh processes (ms)`);
  console.log(`node -e 0                 ${f(median(bare))}`);
  console.log(
    `bldst --version           ${f(median(version))}   ${(median(version) / median(bare)).toFixed(2)}x node -e 0`,
  );
  if (sea.length)
    console.log(
      `dist/bldst --version      ${f(median(sea))}   ${(median(sea) / median(bare)).toFixed(2)}x node -e 0 (single executable)`,
    );
  console.log(`curl POST /states         ${f(median(curl))}`);
  console.log(
    `bldst build add-state     ${f(median(cli))}   ${(median(cli) / median(curl)).toFixed(2)}x curl`,
  );
  if (old.length)
    console.log(
      `baseline build add-state  ${f(median(old))}   ${(median(old) / median(curl)).toFixed(2)}x curl (${baseline})`,
    );
} finally {
  await stack.stop();
}

/**
 * npm run bench:artifacts — bldst beside `aws s3 cp` (Debian's awscli, installed here if missing),
 * to and from the same local S3 server, both through a forward proxy on loopback that caps each
 * connection at 25 MiB/s (a far region's TCP stream), with random bytes (1 GiB; BENCH_ARTIFACT_MIB).
 * Prints bldst ÷ aws for upload and download (goal ≤ 1.0), bldst's peak RSS (goal ≤ 256 MiB, from
 * /usr/bin/time -v) and a line with "missed" for every goal missed. Then a sparse file (6 GiB;
 * BENCH_SPARSE_GIB, 0 skips it) up and down with bldst: more than one part, no PUT above 5 GiB
 * (counted at the proxy), the checksum equal. Ratios, not timed assertions: BENCH_ROUNDS rounds (3)
 * of the 1 GiB comparison, aws first in every other round, the goals judged on the median ratio.
 * BENCH_BLDST_ARGS adds options to bldst's commands (e.g. `--parallel 10`, aws's own concurrency).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { startLocalStack } from '../local/stack';
import { type ForwardProxy, startForwardProxy } from '../test/helpers/forward-proxy';
import { seedReferences } from './seed';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SIZE = Number(process.env.BENCH_ARTIFACT_MIB ?? 1024) * MiB;
const SPARSE = Number(process.env.BENCH_SPARSE_GIB ?? 6) * GiB;
const CAP = 25 * MiB;
/** Rounds of the 1 GiB comparison; the goals are judged on the median ratio (one run varies by ±15 % here). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const KEY = 'bst_bench_artifacts_key';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

function ensureAwsCli(): void {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('aws CLI missing: apt-get install -y awscli');
    execFileSync('apt-get', ['install', '-y', 'awscli'], { stdio: 'inherit' });
  }
}

interface Measured {
  seconds: number;
  rssMiB: number;
  /** bldst's own split of the time (BLDST_TIMINGS=1, cli/timings.ts), when it printed one. */
  phases: string | null;
}

/**
 * `cmd` under /usr/bin/time -v: wall time and peak RSS. Async: the stack and proxy run in this
 * process. After `timeoutMs` the whole process group is killed and the promise rejects, so a
 * stuck transfer is reported as missed instead of hanging the bench.
 */
function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
  timeoutMs = 30 * 60_000,
): Promise<Measured> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const child = execFile(
      '/usr/bin/time',
      ['-v', cmd, ...args],
      // Its own process group, so a timeout kills bldst and not only /usr/bin/time.
      { env, cwd, maxBuffer: 64 * MiB, encoding: 'utf8', ...{ detached: true } },
      (error, _out, stderr) => {
        clearTimeout(timer);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        if (timedOut)
          return reject(new Error(`${cmd} ${args.join(' ')}: killed after ${timeoutMs / 1000} s`));
        if (error) return reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.slice(-2000)}`));
        const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
        const phases = /^bldst timings: (.*)$/m.exec(stderr)?.[1] ?? null;
        resolve({ seconds, rssMiB: kb / 1024, phases });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, timeoutMs);
  });
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return `sha256:${hash.digest('hex')}`;
}

function randomFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  for (let done = 0; done < size; done += 16 * MiB)
    writeSync(fd, randomBytes(Math.min(16 * MiB, size - done)));
  closeSync(fd);
}

const missed: string[] = [];
const goal = (ok: boolean, text: string) => {
  console.log(`${ok ? 'met   ' : 'MISSED'} ${text}`);
  if (!ok) missed.push(text);
};

ensureAwsCli();
execFileSync(process.execPath, ['scripts/build-cli.mjs']);
const bin = join(process.cwd(), 'bin', 'bldst.mjs');
const work = mkdtempSync(join(tmpdir(), 'bench-artifacts-'));
const stack = await startLocalStack({ bootstrapAdminKey: KEY, tableName: 'bench-artifacts' });
const proxy: ForwardProxy = await startForwardProxy({ bytesPerSecond: CAP });
const s3Host = new URL(stack.s3.endpoint).host;
try {
  await seedReferences(stack.url, KEY, 'artifacts');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? work,
    BUILDSTATE_API_URL: stack.url,
    BUILDSTATE_API_TOKEN: KEY,
    XDG_CONFIG_HOME: join(work, 'config'),
    HTTP_PROXY: proxy.url,
    HTTPS_PROXY: proxy.url,
    BLDST_TIMINGS: '1',
    // s3rver: any key, path-style, no flexible checksums (aws-chunked bodies would be stored as is).
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
  const newBuild = async (): Promise<string> => {
    const post = (path: string, body: unknown) =>
      fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': KEY },
        body: JSON.stringify(body),
      });
    const { id } = (await (
      await post('/builds', { platform_id: 'bench', image_type_id: 'artifacts' })
    ).json()) as {
      id: string;
    };
    await post(`/builds/${id}/states`, { state_code: 10, status: 'in_progress' });
    return id;
  };
  const extra = (process.env.BENCH_BLDST_ARGS ?? '').split(' ').filter(Boolean);
  const bldst = (args: string[]) => measure(process.execPath, [bin, ...args, ...extra, '-q'], env, work);
  const aws = (args: string[]) =>
    measure(
      'aws',
      ['s3', 'cp', '--only-show-errors', '--endpoint-url', stack.s3.endpoint, ...args],
      env,
      work,
    );

  const file = join(work, 'image.raw');
  randomFile(file, SIZE);
  const want = await sha256(file);
  console.log(
    `bench:artifacts: ${SIZE / MiB} MiB of random bytes, each connection capped at ${CAP / MiB} MiB/s by the proxy, ${ROUNDS} round(s)${extra.length ? `, bldst given ${extra.join(' ')}` : ''}`,
  );

  /** One round: bldst and aws up and down (aws first in odd rounds, so neither always runs on a warmer machine). */
  const round = async (k: number) => {
    const id = await newBuild();
    const bldstUp = async () => {
      proxy.reset();
      const assembleBefore = stack.s3.stats.assembleSeconds;
      const readBackBefore = stack.s3.stats.readBackSeconds;
      const m = await bldst(['artifact', 'upload', id, file, '--state', '10', '--name', 'image.raw']);
      return {
        m,
        requests: proxy.to(s3Host).length,
        assembled: stack.s3.stats.assembleSeconds - assembleBefore,
        readBack: stack.s3.stats.readBackSeconds - readBackBefore,
      };
    };
    const bldstDown = async () => {
      proxy.reset();
      const m = await bldst([
        'artifact',
        'download',
        id,
        '--state',
        '10',
        '--name',
        'image.raw',
        '-O',
        'bldst.raw',
      ]);
      return { m, requests: proxy.to(s3Host).length };
    };
    const awsUp = async () => {
      proxy.reset();
      const m = await aws([file, `s3://${stack.s3.bucket}/bench/aws-image-${k}.raw`]);
      return { m, requests: proxy.to(s3Host).length };
    };
    const awsDown = async () => {
      proxy.reset();
      const m = await aws([`s3://${stack.s3.bucket}/bench/aws-image-${k}.raw`, join(work, 'aws.raw')]);
      return { m, requests: proxy.to(s3Host).length };
    };
    let bUp: Awaited<ReturnType<typeof bldstUp>>;
    let bDown: Awaited<ReturnType<typeof bldstDown>>;
    let aUp: Awaited<ReturnType<typeof awsUp>>;
    let aDown: Awaited<ReturnType<typeof awsDown>>;
    if (k % 2 === 0) {
      bUp = await bldstUp();
      bDown = await bldstDown();
      aUp = await awsUp();
      aDown = await awsDown();
    } else {
      aUp = await awsUp();
      aDown = await awsDown();
      bUp = await bldstUp();
      bDown = await bldstDown();
    }
    const same =
      (await sha256(join(work, 'bldst.raw'))) === want && (await sha256(join(work, 'aws.raw'))) === want;
    rmSync(join(work, 'bldst.raw'), { force: true });
    rmSync(join(work, 'aws.raw'), { force: true });

    const line = (what: string, b: Measured, a: Measured, bn: number, an: number) =>
      console.log(
        `${what.padEnd(9)} bldst ${b.seconds.toFixed(1)} s (${bn} requests at the proxy, peak RSS ${b.rssMiB.toFixed(0)} MiB)   aws ${a.seconds.toFixed(1)} s (${an} requests, peak RSS ${a.rssMiB.toFixed(0)} MiB)   bldst ÷ aws ${(b.seconds / a.seconds).toFixed(2)}`,
      );
    console.log(`round ${k + 1} of ${ROUNDS} (${k % 2 === 0 ? 'bldst' : 'aws'} first)`);
    line('upload', bUp.m, aUp.m, bUp.requests, aUp.requests);
    if (bUp.m.phases)
      console.log(
        `          bldst upload phases: ${bUp.m.phases} (of which s3rver assembling the parts ${bUp.assembled.toFixed(2)} s, local S3 reading the object back for its CRC32 ${bUp.readBack.toFixed(2)} s)`,
      );
    line('download', bDown.m, aDown.m, bDown.requests, aDown.requests);
    if (bDown.m.phases) console.log(`          bldst download phases: ${bDown.m.phases}`);
    return {
      up: bUp.m.seconds / aUp.m.seconds,
      down: bDown.m.seconds / aDown.m.seconds,
      rss: Math.max(bUp.m.rssMiB, bDown.m.rssMiB),
      same,
      proxied: bUp.requests > 0 && aUp.requests > 0,
    };
  };
  const rounds = [];
  for (let k = 0; k < ROUNDS; k++) rounds.push(await round(k));
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const up = median(rounds.map((r) => r.up));
  const down = median(rounds.map((r) => r.down));
  goal(up <= 1, `upload bldst ÷ aws ≤ 1.0 (median ${up.toFixed(2)} of ${list(rounds.map((r) => r.up))})`);
  goal(
    down <= 1,
    `download bldst ÷ aws ≤ 1.0 (median ${down.toFixed(2)} of ${list(rounds.map((r) => r.down))})`,
  );
  const rss = Math.max(...rounds.map((r) => r.rss));
  goal(rss <= 256, `bldst peak RSS ≤ 256 MiB (${rss.toFixed(0)} MiB)`);
  goal(
    rounds.every((r) => r.same),
    'both copies have the uploaded SHA-256 (every round)',
  );
  goal(
    rounds.every((r) => r.proxied),
    'both tools went through the proxy (every round)',
  );
  rmSync(file, { force: true });

  if (SPARSE > 0) {
    // A failure here (a refused or stuck transfer) is a missed goal with its error, not a hung bench.
    try {
      const sparse = join(work, 'sparse.raw');
      const fd = openSync(sparse, 'w');
      ftruncateSync(fd, SPARSE);
      closeSync(fd);
      const sparseSum = await sha256(sparse);
      const sid = await newBuild();
      proxy.reset();
      const up = await bldst(['artifact', 'upload', sid, sparse, '--state', '10', '--name', 'sparse.raw']);
      const puts = proxy.to(s3Host).filter((r) => r.method === 'PUT');
      const parts = puts.filter((r) => /[?&]partNumber=/.test(r.path)).length;
      const biggest = Math.max(0, ...puts.map((r) => r.bytesUp));
      proxy.reset();
      const down = await bldst([
        'artifact',
        'download',
        sid,
        '--state',
        '10',
        '--name',
        'sparse.raw',
        '-O',
        'sparse.out',
      ]);
      const equal = (await sha256(join(work, 'sparse.out'))) === sparseSum;
      console.log(
        `sparse ${SPARSE / GiB} GiB: up ${up.seconds.toFixed(1)} s (${puts.length} PUTs, ${parts} parts, largest ${(biggest / MiB).toFixed(0)} MiB, peak RSS ${up.rssMiB.toFixed(0)} MiB), down ${down.seconds.toFixed(1)} s (peak RSS ${down.rssMiB.toFixed(0)} MiB)`,
      );
      goal(parts > 1, `sparse file sent in more than one part (${parts})`);
      goal(biggest <= 5 * GiB, `no PUT above 5 GiB (largest ${(biggest / MiB).toFixed(0)} MiB)`);
      goal(equal, 'sparse file: downloaded checksum equal');
    } catch (error) {
      goal(false, `sparse ${SPARSE / GiB} GiB up and down: ${(error as Error).message.slice(0, 500)}`);
    } finally {
      rmSync(join(work, 'sparse.raw'), { force: true });
      rmSync(join(work, 'sparse.out'), { force: true });
    }
  }
  console.log(missed.length ? `${missed.length} goal(s) missed` : 'all goals met');
} finally {
  await proxy.stop();
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
}

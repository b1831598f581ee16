/**
 * npm run test:docs [-- FILE…]: runs the shell blocks of README.md and docs/*.md as a reader
 * would, against a freshly started local service, and compares the expected results the docs
 * show. The rules (markers, expected-result comments, what the test sets up) are in docs/TESTING.md.
 *
 * Everything happens in a scratch copy of the repository (node_modules linked), so
 * `npm run …` and `npx bldst` work as in the repository and nothing is left in it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { lastHttpStatus, lastJsonValue, mismatches } from './docs/expect';
import { npmScripts, type Segment, type ShellBlock, segments, shellBlocks } from './docs/markdown';

/** What the docs assume the reader started the service with (README's quick start, API.md's SigV4). */
const SERVICE_ENV = {
  BUILDSTATE_BOOTSTRAP_ADMIN_KEY: 'dev-key-12345',
  BUILDSTATE_LOCAL_AWS_ACCESS_KEY_ID: 'AKIALOCAL',
  BUILDSTATE_LOCAL_AWS_SECRET_ACCESS_KEY: 'localsecret',
};
/** The address the docs show; replaced by the address the test's service really got. */
const DOC_ADDRESS = /\b(?:127\.0\.0\.1|localhost):8080\b/g;
const SEGMENT_TIMEOUT_MS = 60_000;
const RESPONSE_SEPARATOR = '--docs-test-response--';
const START_TIMEOUT_MS = 90_000;
/** Copied into the scratch folder's repository copy: everything but what installs and runs produce. */
const NOT_COPIED = new Set([
  'node_modules',
  'dist',
  '.git',
  '.data',
  '.build',
  'cdk.out',
  'coverage',
  'test-artifacts',
]);

const root = resolve(process.cwd());
const packageScripts = Object.keys(
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts,
);

interface BlockResult {
  file: string;
  block: ShellBlock;
  outcome: 'ok' | 'skipped' | 'failed' | 'not reached' | 'pending';
  problems: string[];
}

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { pending: { type: 'string', multiple: true, default: [] } },
});
/**
 * --pending FILE[#section]: blocks known to fail until another branch lands (named in
 * package.json, so it is visible). They are reported but do not fail the run; once one passes,
 * the run fails until that --pending is removed.
 */
const pending = options.pending ?? [];
const pendingSpec = (file: string, block: ShellBlock) =>
  pending.find((spec) => spec === file || spec === `${file}#${block.section}`);
const files = positionals.length
  ? positionals.map((f) => relative(root, resolve(f)))
  : [
      'README.md',
      ...readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => `docs/${f}`),
    ];

const scratch = mkdtempSync(join(tmpdir(), 'buildstate-docs-'));
const copy = join(scratch, 'repo');
let service: ChildProcess | undefined;
/** The running file's shell: its own process group, so Ctrl-C does not reach it and it is killed explicitly. */
let shellPid: number | undefined;

async function main(): Promise<number> {
  const started = Date.now();
  const before = gitStatus();
  prepareScratch();
  const url = await startService();
  const results: BlockResult[] = [];
  for (const file of files) results.push(...(await runFile(file, url)));
  // A --pending spec covers its failing blocks; one whose blocks all pass is stale and fails the run.
  const stale: string[] = [];
  for (const spec of pending) {
    const covered = results.filter((r) => pendingSpec(r.file, r.block) === spec && r.outcome !== 'skipped');
    const failing = covered.filter((r) => r.outcome !== 'ok' || r.problems.length);
    for (const r of failing) r.outcome = 'pending';
    if (!failing.length)
      stale.push(
        `--pending ${spec}: ${covered.length ? 'its blocks pass now; remove it' : 'names no block'}`,
      );
  }

  const after = gitStatus();
  const left = after.filter((line) => !before.includes(line));
  const count = (rs: BlockResult[], o: BlockResult['outcome']) => rs.filter((r) => r.outcome === o).length;
  const bad = results.filter(
    (r) =>
      r.outcome === 'failed' || r.outcome === 'not reached' || (r.outcome !== 'pending' && r.problems.length),
  );
  const known = results.filter((r) => r.outcome === 'pending');
  for (const file of files) {
    const mine = results.filter((r) => r.file === file);
    const extra = (['failed', 'not reached', 'pending'] as const)
      .filter((o) => count(mine, o))
      .map((o) => `, ${count(mine, o)} ${o}`);
    const run = mine.length - count(mine, 'skipped') - count(mine, 'not reached');
    console.log(`  ${file}: ${run} run, ${count(mine, 'skipped')} skipped${extra.join('')}`);
  }
  for (const r of bad) {
    console.log(`\n✗ ${r.file}:${r.block.line} (${r.outcome})`);
    for (const p of r.problems) console.log(indent(p));
  }
  for (const r of known) {
    console.log(`\n… ${r.file}:${r.block.line} fails, pending (${pendingSpec(r.file, r.block)})`);
    for (const p of r.problems) console.log(indent(p));
  }
  for (const line of stale) console.log(`\n✗ ${line}`);
  if (left.length) console.log(`\n✗ the run left files in the repository:\n${indent(left.join('\n'))}`);
  const run = results.length - count(results, 'skipped') - count(results, 'not reached');
  const tally = [known.length && `, ${known.length} pending`, bad.length && `, ${bad.length} failed`].filter(
    Boolean,
  );
  console.log(
    `docs: ${run} blocks run, ${count(results, 'skipped')} skipped${tally.join('')} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return bad.length || left.length || stale.length ? 1 : 0;
}

function prepareScratch(): void {
  cpSync(root, copy, {
    recursive: true,
    filter: (src) => {
      const rel = relative(root, src);
      return !NOT_COPIED.has(rel.split('/')[0]!) && !rel.endsWith('dynamodb-local-metadata.json');
    },
  });
  // node_modules is linked (read only by the docs); dist is copied, since `npm link` rebuilds it.
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  if (existsSync(join(root, 'dist'))) cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
  for (const dir of ['bin', 'home/.config', 'tmp', 'npm-global/bin', 'npm-cache', 'run'])
    mkdirSync(join(scratch, dir), { recursive: true });
  // `bldst` on PATH, as after `npm link`: this checkout's CLI.
  const shim = join(scratch, 'bin', 'bldst');
  writeFileSync(shim, `#!/bin/sh\nexec node ${shellQuote(join(copy, 'bin/bldst.mjs'))} "$@"\n`);
  chmodSync(shim, 0o755);
}

/** The environment of the shells and the service: the reader's, minus settings that would change what the docs show. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!/^(BUILDSTATE_|BLDST_|AWS_|npm_|NPM_CONFIG_|JEST_|INIT_CWD$|PORT$)/i.test(name)) env[name] = value;
  return {
    ...env,
    HOME: join(scratch, 'home'),
    XDG_CONFIG_HOME: join(scratch, 'home/.config'),
    TMPDIR: join(scratch, 'tmp'),
    PATH: `${join(scratch, 'bin')}:${join(scratch, 'npm-global/bin')}:${process.env.PATH ?? ''}`,
    NPM_CONFIG_PREFIX: join(scratch, 'npm-global'),
    NPM_CONFIG_CACHE: join(scratch, 'npm-cache'),
    NPM_CONFIG_OFFLINE: 'true',
    NPM_CONFIG_UPDATE_NOTIFIER: 'false',
    NPM_CONFIG_FUND: 'false',
    NPM_CONFIG_AUDIT: 'false',
    ...extra,
  };
}

/** `npm start` in the copy, as the README starts it, on a free port with a fresh data folder. */
async function startService(): Promise<string> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: copy,
    env: cleanEnv({ ...SERVICE_ENV, PORT: '0', BUILDSTATE_ACCESS_LOG: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service = child;
  let output = '';
  return new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not come up in ${START_TIMEOUT_MS / 1000} s:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /BuildState is running at (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
}

async function runFile(file: string, url: string): Promise<BlockResult[]> {
  const text = readFileSync(join(root, file), 'utf8');
  const blocks = shellBlocks(text);
  const results: BlockResult[] = [];
  const work = join(scratch, 'run', file.replace(/[/.]/g, '_'));
  mkdirSync(work, { recursive: true });
  const plans: { block: ShellBlock; segments: Segment[] }[] = [];
  const address = new URL(url).host;

  for (const block of blocks) {
    const problems = npmScripts(block.lines)
      .filter((name) => !packageScripts.includes(name))
      .map((name) => `npm run ${name}: package.json has no such script`);
    // The copy shares node_modules with the repository: an install in it would replace that link.
    if (!block.skip && block.lines.some((l) => /(^|[;&|]\s*)npm (install|i|ci)\b/.test(l.trim()))) {
      problems.push('installs packages, which the docs test cannot do: mark the block (docs/TESTING.md)');
      results.push({ file, block, outcome: 'failed', problems });
      continue;
    }
    if (block.skip) {
      results.push({ file, block, outcome: 'skipped', problems });
      continue;
    }
    try {
      const lines = block.lines.map((l) => l.replace(DOC_ADDRESS, address));
      plans.push({ block, segments: segments(lines) });
      results.push({ file, block, outcome: 'not reached', problems });
    } catch (error) {
      results.push({ file, block, outcome: 'failed', problems: [...problems, (error as Error).message] });
    }
  }
  if (!plans.length) return results;

  // Each block is a function of one shell: variables and `cd` carry over to the next block, and
  // the first failing command ends its block (the ERR trap; set -e would end the whole file).
  const script = [
    'set -o pipefail',
    `__docs=${shellQuote(work)}`,
    // The status of every response, for expectations that show one (`# 201 {…}`).
    // Every response's headers, one file per call (calls in $(…) subshells included).
    'mkdir -p "$__docs/h"',
    'curl() { command curl -D "$(mktemp "$__docs/h/XXXXXXXX")" "$@"; }',
  ];
  plans.forEach(({ segments: segs }, b) => {
    script.push(`__docs_block_${b}() {`, `  trap '__st=$?; trap - ERR; return $__st' ERR`);
    segs.forEach((seg, s) => {
      const base = `"$__docs/${b}.${s}`;
      script.push(
        `printf 'segment ${b} ${s}\\n' >> "$__docs/progress"`,
        'rm -f "$__docs"/h/*',
        '{',
        ...seg.lines,
        `} >${base}.out" 2>${base}.err"`,
        // A failing `a && b` sets the status without the trap; it still ends the block.
        '__st=$?; if [ "$__st" -ne 0 ]; then trap - ERR; return "$__st"; fi',
        `for __h in $(ls -tr "$__docs/h"); do cat "$__docs/h/$__h"; echo '${RESPONSE_SEPARATOR}'; done >${base}.hdr"`,
      );
    });
    script.push(
      'trap - ERR',
      '}',
      `__docs_block_${b}`,
      `printf 'exit ${b} %s\\n' "$?" >> "$__docs/progress"`,
    );
  });
  writeFileSync(join(work, 'script.sh'), `${script.join('\n')}\n`);

  const shell = await runShell(join(work, 'script.sh'), join(work, 'progress'));
  const progress = existsSync(join(work, 'progress')) ? readFileSync(join(work, 'progress'), 'utf8') : '';
  const read = (name: string) => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : '');

  plans.forEach(({ block, segments: segs }, b) => {
    const result = results.find((r) => r.block === block)!;
    const reached = segs.map((_, s) => progress.includes(`segment ${b} ${s}\n`));
    if (!reached[0]) return;
    const exit = new RegExp(`^exit ${b} (\\d+)$`, 'm').exec(progress);
    const code = exit ? Number(exit[1]) : null;
    result.outcome = code === 0 ? 'ok' : 'failed';
    segs.forEach((seg, s) => {
      if (!reached[s]) return;
      const out = read(`${b}.${s}.out`);
      const err = read(`${b}.${s}.err`);
      if (code !== 0 && !reached[s + 1]) {
        result.problems.push(
          `${code === null ? (shell.timedOut ? `timed out after ${SEGMENT_TIMEOUT_MS / 1000} s` : `the shell ended (status ${shell.code})`) : `exited with status ${code}`} in:`,
          indent(
            seg.lines
              .filter((l) => l.trim())
              .slice(-4)
              .join('\n'),
          ),
          ...tail('stdout', out),
          ...tail('stderr', err),
        );
        return;
      }
      const expect = seg.expect;
      const statuses = read(`${b}.${s}.hdr`)
        .split(RESPONSE_SEPARATOR)
        .map(lastHttpStatus)
        .filter((st): st is number => st !== null);
      // An error answer the doc does not show is a failure, even when curl -s exits 0.
      const shown = expect?.status ?? null;
      const unshown = statuses.filter((st, i) => st >= 400 && !(i === statuses.length - 1 && st === shown));
      if (unshown.length) {
        result.outcome = 'failed';
        result.problems.push(
          `HTTP ${unshown.join(', ')} from curl, which the doc does not show (write the status as '# 409 {…}' after the command if it is meant):`,
          indent(
            seg.lines
              .filter((l) => l.trim())
              .slice(-4)
              .join('\n'),
          ),
          ...tail('stdout', out),
        );
      }
      if (!expect) return;
      const where = `line ${block.line + 1 + expect.line}`;
      const problems: string[] = [];
      if (expect.status !== null) {
        const status = statuses.at(-1) ?? null;
        if (status !== expect.status)
          problems.push(`expected HTTP ${expect.status}, got ${status ?? 'no response'}`);
      }
      if (expect.pattern) {
        const value = lastJsonValue(out);
        if (!value.found) problems.push('expected JSON output, got none');
        else problems.push(...mismatches(value.value, expect.pattern));
      }
      if (problems.length) {
        result.outcome = 'failed';
        result.problems.push(
          `${where}: the output differs from # ${expect.status ?? ''} ${expect.text}`.replace(/# {2}/, '# '),
          ...problems.map(indent),
          ...tail('stdout', out),
        );
      }
    });
  });
  return results;
}

/** One bash per file, in the repository copy, in its own process group (killed with everything it started). */
function runShell(script: string, progress: string): Promise<{ code: number | null; timedOut: boolean }> {
  return new Promise((resolvePromise) => {
    const child = spawn('bash', ['--noprofile', '--norc', script], {
      cwd: copy,
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true,
    });
    shellPid = child.pid;
    // A segment that makes no progress for SEGMENT_TIMEOUT_MS (a command that never ends) stops the file.
    let timedOut = false;
    let size = -1;
    let since = Date.now();
    const timer = setInterval(() => {
      const now = existsSync(progress) ? statSync(progress).size : 0;
      if (now !== size) {
        size = now;
        since = Date.now();
      } else if (Date.now() - since > SEGMENT_TIMEOUT_MS) {
        timedOut = true;
        killGroup(child.pid);
      }
    }, 250);
    child.once('exit', (code) => {
      clearInterval(timer);
      killGroup(child.pid); // whatever a block left running in the background
      resolvePromise({ code, timedOut });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function stopService(): Promise<void> {
  const child = service;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function gitStatus(): string[] {
  const r = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], {
    cwd: root,
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

function tail(label: string, text: string): string[] {
  const lines = text.trimEnd().split('\n').filter(Boolean);
  if (!lines.length) return [];
  return [`${label} (last lines):`, indent(lines.slice(-12).join('\n').slice(-3000))];
}

const indent = (text: string) => text.replace(/^/gm, '    ');
const shellQuote = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;

let exitCode = 1;
// Interrupted: stop the service and remove the scratch folder all the same.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    killGroup(shellPid);
    void stopService().finally(() => {
      rmSync(scratch, { recursive: true, force: true });
      process.exit(130);
    });
  });
try {
  exitCode = await main();
} catch (error) {
  console.error(`docs: ${(error as Error).message}`);
} finally {
  await stopService();
  // DOCS_KEEP_SCRATCH=1 keeps the scratch folder to look at what the blocks did.
  if (process.env.DOCS_KEEP_SCRATCH === '1') console.log(`docs: scratch folder kept: ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);

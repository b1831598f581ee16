/**
 * `bldst run`: report in_progress, run the command with its output streamed, then report completed
 * (after uploading and verifying the artifact, if any) or failed with the exit code and the last
 * lines of stderr. Returns the command's exit code. A state the build has already completed (or
 * moved past) is not run again: that is what makes a list of steps resumable.
 * Without a state it only holds the lease while the command runs, for tools that report their own
 * states (Packer provisioners, Ansible plays) through `bldst` or an integration inside.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { uploadArtifact } from './artifacts';
import type { Client } from './client';
import { CliError, EXIT } from './errors';
import { exitCodeOf, graceSeconds, interrupted, interrupts, type StopSignal } from './interrupt';
import { type HeldLease, leaseFor } from './lease';
import { clip, LIMITS } from './limits';
import { progressReporter } from './progress';

export interface RunStateOptions {
  buildId: string;
  /** The state to report; without one the lease is only held (nothing is reported). */
  state?: number;
  /** argv to exec directly, or a string for `sh -c`. */
  command: string[] | string;
  artifact?: string;
  workerId?: string;
  env?: Record<string, string>;
  /** Working directory of the command (default: the current one). */
  cwd?: string;
  log?: (line: string) => void;
  /** The lease to report under (pipeline run holds one for all its steps); else one is taken for this state. */
  lease?: HeldLease;
  /** TTL of the lease taken when none is given (default 120 s). */
  leaseTtlSeconds?: number;
  /** Called before the command's output reaches the terminal (pipeline run's live line clears itself). */
  beforeOutput?: () => void;
  /** Put before every line of the command's output (a fan-out's children run side by side). */
  prefix?: string;
  /** Called after each state report the service accepted. */
  onReport?: () => void;
  /** A progress line for the artifact upload on a terminal (cli/progress.ts). */
  uploadProgress?: boolean;
  /** --progress: that line on a pipe too (a line every 5 s), as artifact upload --progress. */
  progressOnPipe?: boolean;
  /** Called before the artifact upload draws its line (pipeline run's live line stops redrawing). */
  beforeTransfer?: () => void;
  /** -q: the artifact upload's notes ("resuming upload …", "the service is not answering …") are left out. */
  quiet?: boolean;
  /** The artifact upload's part size and parts at once (`--part-size`, `--parallel`; cli/upload.ts). */
  transfer?: TransferOptions;
}

/** How artifacts move: bytes per multipart part, and parts (or ranged GETs) at once. */
export interface TransferOptions {
  partSize?: number;
  parallel?: number;
}

const TAIL_LINES = 20;
const seg = encodeURIComponent;

export const defaultWorkerId = () => process.env.BLDST_WORKER_ID || `${hostname()}:${process.pid}`;

interface BuildPosition {
  status: string;
  current_state: number;
  state_status: string | null;
  last_completed_state: number | null;
}

/** Why state `state` needs no run on this build, or undefined when it does. */
export function alreadyDone(build: BuildPosition, state: number): string | undefined {
  if (build.status === 'completed') return 'the build is completed';
  if (state < build.current_state)
    return `the build is already at state ${build.current_state} (last completed: ${build.last_completed_state ?? 'none'})`;
  if (state === build.current_state && build.state_status === 'completed') return 'it is already completed';
  return undefined;
}

export async function runState(client: Client, o: RunStateOptions): Promise<number> {
  const log = o.log ?? ((line: string) => process.stderr.write(`bldst: ${line}\n`));
  const worker_id = o.workerId ?? defaultWorkerId();
  interrupts.check(o.state === undefined ? commandText(o.command) : `state ${o.state}`);
  // From here to the end a signal is handled (forwarded, reported), never the default exit.
  const release = interrupts.hold();
  try {
    return await runStateHeld(client, o, worker_id, log);
  } finally {
    release();
  }
}

async function runStateHeld(
  client: Client,
  o: RunStateOptions,
  worker_id: string,
  log: (line: string) => void,
): Promise<number> {
  if (o.state !== undefined && !o.lease) {
    const done = alreadyDone(await client.get<BuildPosition>(`/builds/${seg(o.buildId)}`), o.state);
    if (done) {
      log(`state ${o.state}: skipped, ${done}; not running ${commandText(o.command)}`);
      return 0;
    }
  }
  const lease = o.lease ?? (await leaseFor(client, o.buildId, worker_id, o.leaseTtlSeconds ?? 120, log));
  try {
    return await runUnderLease(client, o, lease, worker_id, log);
  } finally {
    if (!o.lease) await lease.release();
  }
}

const commandText = (command: string[] | string) =>
  typeof command === 'string' ? command : command.join(' ');

async function runUnderLease(
  client: Client,
  o: RunStateOptions,
  lease: HeldLease,
  worker_id: string,
  log: (line: string) => void,
): Promise<number> {
  const report = async (body: Record<string, unknown>) => {
    const answer = await client.post<{
      attempt: number;
      max_attempts: number;
      took_over?: { worker_id: string | null; silent_since: string };
    }>(`/builds/${seg(o.buildId)}/states`, { state_code: o.state, worker_id, ...body }, lease.headers);
    o.onReport?.();
    return answer;
  };
  const abort = new AbortController();
  lease.whenLost(() => abort.abort());
  // A third signal exits at once: say what was not reported and how to report it.
  const stopListening = interrupts.listen((_signal, count) => {
    if (count >= 3 && o.state !== undefined)
      log(
        `state ${o.state} was not reported as interrupted; it stays in progress until the lease expires. Report it with: ${interruptedCommand(o.buildId, o.state, worker_id)}`,
      );
  });
  try {
    return await runAttempt(client, o, lease, worker_id, log, report, abort.signal);
  } finally {
    stopListening();
  }
}

/** The command that records an interrupted attempt by hand. */
export const interruptedCommand = (buildId: string, state: number, workerId: string) =>
  `bldst build add-state ${buildId} --state ${state} --status failed --error-code interrupted --worker ${shellQuote(workerId)} --error interrupted`;

async function runAttempt(
  client: Client,
  o: RunStateOptions,
  lease: HeldLease,
  worker_id: string,
  log: (line: string) => void,
  report: (body: Record<string, unknown>) => Promise<{
    attempt: number;
    max_attempts: number;
    took_over?: { worker_id: string | null; silent_since: string };
  }>,
  signal: AbortSignal,
): Promise<number> {
  let attempt: number | undefined;
  if (o.state !== undefined) {
    // The attempt numbers are the server's: a retry on another machine is attempt 2 of 3, not 1 of 1.
    const started = await report({ status: 'in_progress' });
    // Its worker died: the server recorded that attempt failed (worker_lost) and started this one.
    if (started.took_over)
      log(
        `taking over state ${o.state} from ${started.took_over.worker_id ?? 'a silent worker'}, silent since ${started.took_over.silent_since}`,
      );
    attempt = started.attempt;
    log(`state ${o.state}: in progress, attempt ${started.attempt} of ${started.max_attempts}`);
  } else log(`holding the lease on ${o.buildId} while ${commandText(o.command)} runs`);
  // Interrupted while the attempt was being started: it is closed without running anything.
  const { code, tail } = interrupts.signal
    ? { code: exitCodeOf(interrupts.signal), tail: [] }
    : await execute(
        o.command,
        {
          ...process.env,
          ...o.env,
          // Handed down: every bldst (and integration) inside reports under this lease.
          BLDST_BUILD_ID: o.buildId,
          BLDST_LEASE_ID: lease.leaseId,
          BLDST_WORKER_ID: worker_id,
          ...(o.state === undefined ? {} : { BLDST_STATE: String(o.state), BLDST_ATTEMPT: String(attempt) }),
        },
        o.cwd,
        signal,
        o.beforeOutput,
        o.prefix,
      );
  if (lease.lost) {
    throw new CliError(
      `build ${o.buildId} was taken over by another worker; stopped ${o.state === undefined ? commandText(o.command) : `state ${o.state}`}`,
      EXIT.conflict,
      'lease_lost',
    );
  }
  const stoppedBy = interrupts.signal;
  if (stoppedBy) return reportInterrupted(o, stoppedBy, code, report, log, worker_id);
  if (o.state === undefined) {
    if (code !== 0) log(`${commandText(o.command)} exited with code ${code}`);
    return code;
  }

  const state = o.state;
  // The step has finished: a report that cannot be sent is never dropped silently.
  const finalReport = async (body: Record<string, unknown>, commands: string[]) => {
    try {
      await report(body);
    } catch (error) {
      throw unsent(o.buildId, state, body.status as string, error, commands);
    }
  };
  const addState = (status: string, extra = '') =>
    `bldst build add-state ${o.buildId} --state ${state} --status ${status} --worker ${shellQuote(worker_id)}${extra}`;
  if (code === 0) {
    try {
      if (o.artifact) {
        o.beforeTransfer?.();
        const progress = progressReporter(
          `artifact ${basename(o.artifact)}`,
          o.uploadProgress !== true ? false : o.progressOnPipe ? true : undefined,
        );
        const a = await uploadArtifact(client, o.buildId, state, o.artifact, {
          ...o.transfer,
          onProgress: progress.onProgress,
          onReading: progress.onReading,
          ...(o.quiet
            ? {}
            : {
                log: (line: string) => {
                  progress.clear();
                  log(line);
                },
              }),
        }).finally(progress.done);
        log(`state ${state}: artifact ${a.name} uploaded and verified (${a.checksum})`);
      }
    } catch (error) {
      if (isUnreachable(error))
        throw unsent(o.buildId, state, 'completed', error, [
          // The same part size: a multipart upload is continued only with the parts it was cut into.
          `bldst artifact upload ${o.buildId} ${shellQuote(o.artifact!)} --state ${state}${o.transfer?.partSize ? ` --part-size ${o.transfer.partSize}` : ''}${o.transfer?.parallel ? ` --parallel ${o.transfer.parallel}` : ''}`,
          addState('completed'),
        ]);
      await report({ status: 'failed', error: `artifact upload failed: ${(error as Error).message}` });
      throw error;
    }
    await finalReport({ status: 'completed' }, [addState('completed')]);
    log(`state ${state}: completed`);
    return 0;
  }
  // Trimmed to what the server keeps, the `exit code N` header always first.
  const error = clip([`exit code ${code}`, ...tail].join('\n'), LIMITS.error, {
    head: `exit code ${code}`,
  }).text;
  await finalReport({ status: 'failed', error }, [
    addState('failed', ` --error ${shellQuote(`exit code ${code}`)}`),
  ]);
  log(`state ${state}: failed (exit code ${code})`);
  return code;
}

/** The login could not be renewed, or the server not reached: the report may be sent by hand. */
const isUnreachable = (error: unknown) =>
  error instanceof CliError && (error.exitCode === EXIT.auth || error.exitCode === EXIT.server);

/** A finished step's report that could not be sent: which one, why, and the commands that send it. */
function unsent(buildId: string, state: number, status: string, error: unknown, commands: string[]): unknown {
  if (!isUnreachable(error)) return error;
  const e = error as CliError;
  return new CliError(
    [
      `state ${state} of build ${buildId} finished (${status}) but its report could not be sent: ${e.message}`,
      `after logging in again (bldst auth login) or once the server answers, and once the lease this run held has expired (it could not be released; until then the report is refused with lease_held), send it with:`,
      ...commands.map((c) => `  ${c}`),
    ].join('\n'),
    e.exitCode,
    e.code,
  );
}

const shellQuote = (value: string) =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * After SIGINT/SIGTERM: the attempt is reported `failed` with `error_code: "interrupted"` (the
 * server does not count it toward max_attempts) and the run ends with 130/143. A report that
 * cannot be sent is named with the command that sends it.
 */
async function reportInterrupted(
  o: RunStateOptions,
  signal: StopSignal,
  code: number,
  report: (body: Record<string, unknown>) => Promise<unknown>,
  log: (line: string) => void,
  worker_id: string,
): Promise<never> {
  const what = o.state === undefined ? commandText(o.command) : `state ${o.state}`;
  if (o.state === undefined) throw interrupted(signal, `${what} interrupted; the lease is released`);
  try {
    await report({
      status: 'failed',
      error_code: 'interrupted',
      error: `interrupted by ${signal} (the step exited with code ${code})`,
    });
  } catch (error) {
    throw new CliError(
      `${what} was interrupted (${signal}) but the report could not be sent: ${(error as Error).message}; send it with: ${interruptedCommand(o.buildId, o.state, worker_id)}`,
      exitCodeOf(signal),
      'interrupted',
    );
  }
  log(`state ${o.state}: interrupted (${signal}); recorded, not counted toward its attempts`);
  throw interrupted(signal, `${what} interrupted; run it again to resume (resume says retry)`);
}

/**
 * Runs the command with stdout inherited and stderr both streamed and kept (last lines). The
 * command leads its own process group, so a stop signal reaches everything it started (sh -c's
 * children too): the first SIGINT/SIGTERM is forwarded to the group, a second one or the grace
 * period (graceSeconds) running out sends SIGKILL, and once the step has exited, what it left
 * running in its group is killed.
 */
function execute(
  command: string[] | string,
  env: NodeJS.ProcessEnv,
  cwd?: string,
  signal?: AbortSignal,
  beforeOutput?: () => void,
  prefix?: string,
): Promise<{ code: number; tail: string[] }> {
  const [file, args] =
    typeof command === 'string' ? ['sh', ['-c', command]] : [command[0]!, command.slice(1)];
  return new Promise((resolve) => {
    // With a live line to keep clear of or a prefix to add, stdout is passed through here too; else it is the child's own.
    const child = spawn(file, args, {
      env,
      cwd,
      stdio: ['inherit', beforeOutput || prefix ? 'pipe' : 'inherit', 'pipe'],
      detached: true,
    });
    const toGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // The group is gone already.
      }
    };
    const guard = child.pid ? stepGuard(child.pid, graceSeconds()) : undefined;
    let tail: string[] = [];
    let partial = '';
    const out = prefix ? linePrefixer(prefix, (t) => process.stdout.write(t)) : undefined;
    const err = prefix ? linePrefixer(prefix, (t) => process.stderr.write(t)) : undefined;
    child.stdout?.on('data', (chunk: Buffer) => {
      beforeOutput?.();
      out ? out.write(chunk) : process.stdout.write(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      beforeOutput?.();
      err ? err.write(chunk) : process.stderr.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      tail = [...tail, ...lines].slice(-TAIL_LINES);
    });
    let grace: NodeJS.Timeout | undefined;
    const stopListening = interrupts.listen((sig, count) => {
      if (count === 1) {
        toGroup(sig);
        const seconds = graceSeconds();
        process.stderr.write(
          `bldst: ${sig}: stopping the step (SIGKILL in ${seconds} s or at the next Ctrl-C)\n`,
        );
        grace = setTimeout(() => toGroup('SIGKILL'), seconds * 1000);
      } else toGroup('SIGKILL');
    });
    // Lease lost: stop the command, and stop waiting for output from anything it left behind.
    const onAbort = () => {
      toGroup('SIGTERM');
      child.stderr?.destroy();
    };
    signal?.addEventListener('abort', onAbort);
    const done = (code: number, extra: string[] = []) => {
      guard?.release();
      out?.end();
      err?.end();
      // Stopped: whatever the step left running in its group (background jobs of sh, which
      // ignore SIGINT) goes too, so an interrupted step leaves nothing behind.
      if (grace) toGroup('SIGKILL');
      clearTimeout(grace);
      stopListening();
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, tail: [...tail, ...(partial ? [partial] : []), ...extra].slice(-TAIL_LINES) });
    };
    child.on('error', (e) => done(127, [`cannot run ${file}: ${e.message}`]));
    child.on('exit', (code, signal) =>
      done(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 2)),
    );
  });
}

/**
 * A watchdog for the step's process group, for when bldst itself is killed (SIGKILL, the OOM
 * killer), which no handler of bldst's sees: the step would run on unsupervised while its lease
 * lapses and another worker takes the state over — two runs of the same step on one host. A tiny
 * `sh`, in a process group of its own (a Ctrl-C at the terminal is bldst's to handle), reads a pipe
 * from bldst: "done" when the step has exited lets it go; the pipe closing without it (bldst is
 * gone: the kernel closes its end) makes it stop the step's group (SIGTERM, SIGKILL after
 * `graceSeconds`). Without `sh` there is no watchdog, as before.
 */
export function stepGuard(pgid: number, graceSeconds: number): { release(): void } {
  const script = `if read -r word && [ "$word" = done ]; then exit 0; fi
kill -TERM -"$1" 2>/dev/null || exit 0
sleep "$2"
kill -KILL -"$1" 2>/dev/null
exit 0`;
  try {
    const guard = spawn('sh', ['-c', script, 'bldst-step-guard', String(pgid), String(graceSeconds)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    guard.on('error', () => undefined);
    guard.stdin!.on('error', () => undefined);
    guard.unref();
    // A pipe to a child is a net.Socket: unref'd, it does not keep bldst alive by itself.
    (guard.stdin as Socket).unref();
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        guard.stdin!.end('done\n');
      },
    };
  } catch {
    return { release() {} };
  }
}

/**
 * Whole lines, each with `prefix` before it, so the output of commands running side by side stays
 * readable; an unfinished last line is written (with its prefix) at `end`.
 */
export function linePrefixer(prefix: string, write: (text: string) => void) {
  let partial = '';
  return {
    write(chunk: Buffer | string) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      if (lines.length) write(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
    end() {
      if (partial) write(`${prefix}${partial}\n`);
      partial = '';
    },
  };
}

export function requireState(value: string | undefined, flag = '--state'): number {
  const n = Number(value);
  if (value === undefined || !/^\d{1,3}$/.test(value) || n > 100) {
    throw new CliError(`${flag} must be a state code 0-100`, EXIT.usage, 'usage');
  }
  return n;
}

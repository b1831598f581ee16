/**
 * `bldst run`: report in_progress, run the command with its output streamed, then report completed
 * (after uploading and verifying the artifact, if any) or failed with the exit code and the last
 * lines of stderr. Returns the command's exit code. A state the build has already completed (or
 * moved past) is not run again: that is what makes a list of steps resumable.
 * Without a state it only holds the lease while the command runs, for tools that report their own
 * states (Packer provisioners, Ansible plays) through `bldst` or an integration inside.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { uploadArtifact } from './artifacts';
import type { Client } from './client';
import { CliError, EXIT } from './errors';
import { type HeldLease, leaseFor } from './lease';

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

  if (o.state !== undefined) {
    // The attempt numbers are the server's: a retry on another machine is attempt 2 of 3, not 1 of 1.
    const started = await report({ status: 'in_progress' });
    // Its worker died: the server recorded that attempt failed (worker_lost) and started this one.
    if (started.took_over)
      log(
        `taking over state ${o.state} from ${started.took_over.worker_id ?? 'a silent worker'}, silent since ${started.took_over.silent_since}`,
      );
    log(`state ${o.state}: in progress, attempt ${started.attempt} of ${started.max_attempts}`);
  } else log(`holding the lease on ${o.buildId} while ${commandText(o.command)} runs`);
  const { code, tail } = await execute(
    o.command,
    {
      ...process.env,
      ...o.env,
      // Handed down: every bldst (and integration) inside reports under this lease.
      BLDST_BUILD_ID: o.buildId,
      BLDST_LEASE_ID: lease.leaseId,
      BLDST_WORKER_ID: worker_id,
      ...(o.state === undefined ? {} : { BLDST_STATE: String(o.state) }),
    },
    o.cwd,
    abort.signal,
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
  if (o.state === undefined) {
    if (code !== 0) log(`${commandText(o.command)} exited with code ${code}`);
    return code;
  }

  if (code === 0) {
    try {
      if (o.artifact) {
        const a = await uploadArtifact(client, o.buildId, o.state, o.artifact);
        log(`state ${o.state}: artifact ${a.name} uploaded and verified (${a.checksum})`);
      }
    } catch (error) {
      await report({ status: 'failed', error: `artifact upload failed: ${(error as Error).message}` });
      throw error;
    }
    await report({ status: 'completed' });
    log(`state ${o.state}: completed`);
    return 0;
  }
  const error = [`exit code ${code}`, ...tail].join('\n').slice(-8000);
  await report({ status: 'failed', error });
  log(`state ${o.state}: failed (exit code ${code})`);
  return code;
}

/** Runs the command with stdout inherited and stderr both streamed and kept (last lines). */
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
    });
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
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    // Lease lost: stop the command, and stop waiting for output from anything it left behind.
    const onAbort = () => {
      child.kill('SIGTERM');
      child.stderr?.destroy();
    };
    signal?.addEventListener('abort', onAbort);
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (code: number, extra: string[] = []) => {
      out?.end();
      err?.end();
      signal?.removeEventListener('abort', onAbort);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve({ code, tail: [...tail, ...(partial ? [partial] : []), ...extra].slice(-TAIL_LINES) });
    };
    child.on('error', (e) => done(127, [`cannot run ${file}: ${e.message}`]));
    child.on('exit', (code, signal) =>
      done(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 2)),
    );
  });
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

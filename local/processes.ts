import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** A free TCP port on loopback, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export class MissingJavaError extends Error {
  constructor() {
    super(
      'Java 17 or newer is required to run DynamoDB Local: install a JRE (e.g. `apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`) and make sure `java` is on PATH',
    );
    this.name = 'MissingJavaError';
  }
}

export function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new MissingJavaError();
}

/** Resolves if host:port can be bound now, rejects with EADDRINUSE (or the bind error) otherwise. */
export function assertPortFree(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/**
 * One running BuildState per data folder: two DynamoDB Local engines on one database file would
 * corrupt it. The lock is a listening Unix socket named after the folder, held by this process:
 * the kernel closes it when the process ends in any way (even SIGKILL), so a stale lock cannot
 * exist and an unrelated process that happens to reuse an old pid never counts. A second start
 * connects to it and learns the holder's pid. On Linux the socket is abstract (no file); elsewhere
 * it is `<data>/buildstate.lock` (a leftover file no process listens on is removed).
 * `<data>/buildstate.pid` names the holder for people; it is never read to decide.
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  const address = lockAddress(dataDir);
  const server = createServer((socket) => socket.end(JSON.stringify({ pid: process.pid })));
  server.unref();
  for (let tries = 0; ; tries++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const holder = await lockHolder(address);
      if (holder !== null)
        throw new Error(
          `Another BuildState (${holder > 0 ? `pid ${holder}` : 'pid unknown'}) is running on ${dataDir}; stop it or set BUILDSTATE_DATA_DIR`,
        );
      // A socket file nobody listens on (only possible outside Linux): remove it and try again.
      if (tries > 0 || address.startsWith('\0')) throw error;
      rmSync(address, { force: true });
    }
  }
  const pidFile = join(dataDir, 'buildstate.pid');
  writeFileSync(pidFile, String(process.pid));
  return () => {
    server.close();
    rmSync(pidFile, { force: true });
  };
}

function lockAddress(dataDir: string): string {
  const real = realpathSync(dataDir);
  if (process.platform === 'linux')
    return `\0buildstate-lock-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
  return join(real, 'buildstate.lock');
}

/** The pid the lock's holder reports, or null when nobody listens (a refused or failed connection). */
function lockHolder(address: string): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect(address);
    let text = '';
    socket.setTimeout(2_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      text += chunk;
    });
    socket.on('error', () => resolve(null));
    socket.on('close', () => {
      try {
        const pid = (JSON.parse(text) as { pid?: unknown }).pid;
        resolve(typeof pid === 'number' ? pid : -1);
      } catch {
        // Someone listens but does not say who: still a live holder.
        resolve(-1);
      }
    });
  });
}

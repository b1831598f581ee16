import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
 * corrupt it. Returns a release function; throws if a live process holds the lock.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'buildstate.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(
        `Another BuildState (pid ${pid}) is running on ${dataDir}; stop it or set BUILDSTATE_DATA_DIR`,
      );
    }
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

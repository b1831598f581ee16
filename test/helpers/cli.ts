/** The built CLI as a subprocess, with its own config folder, the way pipelines run it. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ADMIN_KEY } from './stack';

export const ROOT = resolve(__dirname, '../..');
export const BLDST_BIN = join(ROOT, 'bin', 'bldst.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Builds bldst into dist/ — once per jest run: the int project's global setup builds it and sets
 * BUILDSTATE_TEST_CLI_BUILT, because files running side by side (two workers) must not rebuild
 * dist/ (which drops the old chunks) under each other's running bldst processes. A file run on its
 * own outside that setup builds it itself.
 */
export function buildCli(): void {
  if (process.env.BUILDSTATE_TEST_CLI_BUILT) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT });
}

/** Builds the Concourse resource's scripts (integrations/concourse/dist), once per run as buildCli. */
export function buildConcourse(): void {
  if (process.env.BUILDSTATE_TEST_CLI_BUILT) return;
  execFileSync(process.execPath, [join(ROOT, 'integrations', 'concourse', 'build.mjs')]);
}

/** A `bldst` runner bound to a server URL; `home` is its working directory and config home. */
export function cliRunner(url: () => string, home = mkdtempSync(join(tmpdir(), 'bs-cli-'))) {
  const run = (
    args: string[],
    opts: { env?: Record<string, string>; cwd?: string; input?: string } = {},
  ): Promise<CliResult> =>
    new Promise((done) => {
      const child = execFile(
        process.execPath,
        [BLDST_BIN, ...args],
        {
          cwd: opts.cwd ?? home,
          env: {
            PATH: process.env.PATH ?? '',
            XDG_CONFIG_HOME: join(home, 'config'),
            BUILDSTATE_API_URL: url(),
            BUILDSTATE_API_TOKEN: ADMIN_KEY,
            BLDST_WORKER_ID: 'test-worker',
            ...opts.env,
          },
        },
        (error, stdout, stderr) =>
          done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      // bldst may exit before reading its input (a usage error): EPIPE there is not the result.
      child.stdin?.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
      });
      child.stdin?.end(opts.input ?? '');
    });
  return { run, home };
}

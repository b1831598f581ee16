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

export const buildCli = () =>
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT });

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
      child.stdin?.end(opts.input ?? '');
    });
  return { run, home };
}

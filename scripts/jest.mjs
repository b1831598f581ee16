/**
 * `npm test` runs jest through this: every temporary file a test or a process it starts makes
 * (mkdtemp under os.tmpdir(), bldst's config homes, Chromium profiles, s3rver folders) lands in
 * one folder of this run, removed when jest ends. A failed run keeps it and prints where, so its
 * files can be read. Arguments go to jest unchanged.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'buildstate-test-'));
const jest = createRequire(import.meta.url).resolve('jest/bin/jest');
const child = spawn(process.execPath, [jest, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: root },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (code === 0) rmSync(root, { recursive: true, force: true });
  else console.error(`jest failed: its temporary files are kept in ${root}`);
  process.exit(code ?? (signal === 'SIGINT' ? 130 : 1));
});

/**
 * Real tools the integration tests drive (Debian's ansible-core and packer). Outside CI a missing
 * tool skips its tests with a message; in CI (`CI=true`), where `.ci/run` installs them, a missing
 * tool is a failure, so the integrations can never go untested there unnoticed.
 */
import { spawn, spawnSync } from 'node:child_process';

export function haveTool(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** True when `command` is on PATH; otherwise warns (or, in CI, throws) naming the Debian package. */
export function requireTool(command: string, debianPackage: string): boolean {
  if (haveTool(command)) return true;
  const message = `${command} not found: install Debian's ${debianPackage} (apt-get install ${debianPackage}; .ci/run does it)`;
  if (process.env.CI === 'true') throw new Error(`CI needs ${message}`);
  console.warn(`skipping the ${debianPackage} integration tests: ${message}`);
  return false;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool asynchronously (never spawnSync: the stack under test serves requests from this same
 * process, so a blocked event loop would deadlock the tool's calls).
 */
export function runTool(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    // A tool that exits without reading its input (a refusal at once) closes the pipe first: EPIPE
    // on our end of stdin says nothing about the tool, whose exit status and output are the result.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.stdin.end(options.input ?? '');
  });
}

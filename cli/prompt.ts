/**
 * Reading a username or password: from a prompt on a terminal (the password not echoed), else
 * line by line from stdin, which is what `--password-stdin` and scripts use.
 */
import { createInterface } from 'node:readline';
import { CliError, EXIT } from './errors';

let pending: string[] | undefined;
let waiting: ((line: string | undefined) => void)[] = [];
let ended = false;

/** The next line of stdin (undefined at its end); lines are buffered across calls. */
function nextLine(): Promise<string | undefined> {
  if (!pending) {
    pending = [];
    const rl = createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      const w = waiting.shift();
      if (w) w(line);
      else pending!.push(line);
    });
    rl.on('close', () => {
      ended = true;
      for (const w of waiting) w(undefined);
      waiting = [];
    });
  }
  if (pending.length) return Promise.resolve(pending.shift());
  if (ended) return Promise.resolve(undefined);
  return new Promise((resolve) => waiting.push(resolve));
}

/** `hint`: what a script should send instead, said when stdin has no line to give. */
export async function readLine(question: string, hint?: string): Promise<string> {
  if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    return new Promise((resolve) =>
      rl.question(question, (answer) => {
        rl.close();
        resolve(answer.trim());
      }),
    );
  }
  const line = await nextLine();
  if (line === undefined)
    throw new CliError(`no input for "${question.trim()}"${hint ? `: ${hint}` : ''}`, EXIT.usage, 'usage');
  return line.trim();
}

/** A password: typed without echo on a terminal, else the next line of stdin. */
export async function readSecret(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const line = await nextLine();
    if (line === undefined) throw new CliError('no password on stdin', EXIT.usage, 'usage');
    return line.replace(/\r$/, '');
  }
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  let typed = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            resolve(typed);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new CliError('cancelled', 130, 'cancelled'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/**
 * What a person sees: `bldst` on a real terminal (tmux, Debian's `tmux`) at 80, 100 and 160
 * columns, against the local stack. The seeds' use case 1 (one base image forked to six AWS
 * regions) must read as six different rows wherever children are listed; text someone else typed
 * (escape sequences, bidi overrides, CJK) must show as text, never act on the terminal.
 * Without tmux the suite is skipped with a message, except in CI, where `.ci/run` installs it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { displayWidth } from '../../../cli/output';
import { BLDST_BIN, buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const HAVE_TMUX = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();
if (!HAVE_TMUX && process.env.CI === 'true')
  throw new Error('CI needs tmux (apt-get install tmux; .ci/run does it)');
if (!HAVE_TMUX)
  console.warn('skipping the terminal screen tests: tmux is not installed (apt-get install tmux)');
const describeTmux = HAVE_TMUX ? describe : describe.skip;

let stack: TestStack;
const { run: bldst, home } = cliRunner(() => stack.url);
const SOCKET = `bs-screens-${process.pid}`;
const PARENT = 'f18a0e927fd4628789aabdb43';
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-south-1', 'ap-northeast-1'];
const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\u202eevil';
let children: { id: string; region: string }[] = [];

const ok = async (r: Promise<CliResult>) => {
  const res = await r;
  expect([res.code, res.stderr]).toEqual([0, expect.anything()]);
  return res;
};

beforeAll(async () => {
  if (!HAVE_TMUX) return;
  buildCli();
  // The stream aggregator feeds dashboard summary: drained before the screens are read.
  stack = await startTestStack({ events: { pollMs: 50 } });
  expect((await stack.call('POST', '/projects', { id: 'screens', name: 'Screens' })).status).toBe(201);
  const codes = Array.from({ length: 11 }, (_, n) => ({ code: n * 10, name: `state ${n * 10}` }));
  expect((await stack.call('PUT', '/projects/screens/state-codes', codes)).status).toBe(200);
  await ok(
    bldst([
      'build',
      'create',
      '--id',
      PARENT,
      '--project-id',
      'screens',
      '--platform',
      'aws-commercial',
      '--image-type',
      'rhel9',
      '-q',
    ]),
  );
  for (const state of ['10', '20', '30', '40', '50'])
    await ok(bldst(['build', 'add-state', PARENT, '--state', state, '--status', 'completed', '-q']));
  const fork = await ok(
    bldst([
      'build',
      'fork',
      PARENT,
      '--at',
      '50',
      ...REGIONS.flatMap((r) => ['--child', `platform_id=aws-commercial,metadata.region=${r}`]),
      '-o',
      'json',
    ]),
  );
  children = JSON.parse(fork.stdout).children.map((c: { id: string }, n: number) => ({
    id: c.id,
    region: REGIONS[n]!,
  }));
  // Each child on its own build server; one failed with an error someone typed, hostile and CJK.
  for (const [n, c] of children.entries()) {
    await ok(
      bldst([
        'build',
        'add-state',
        c.id,
        '--state',
        '60',
        '--status',
        'in_progress',
        '--worker',
        `build-server-${'abcdef'[n]}`,
        '-q',
      ]),
    );
  }
  await ok(
    bldst([
      'build',
      'add-state',
      children[5]!.id,
      '--state',
      '60',
      '--status',
      'failed',
      '--worker',
      'build-server-f',
      '--error',
      `構築に失敗 🚀 ${HOSTILE}`,
      '-q',
    ]),
  );
  await stack.events!.drain();
}, 120_000);

afterAll(async () => {
  if (!HAVE_TMUX) return;
  try {
    execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // no server left: every session ended
  }
  await stack.stop();
});

let sessions = 0;
/**
 * `bldst ARGS` in a fresh tmux window of `width` columns; the screen (wrapped lines joined, so a
 * line the terminal had to wrap shows as one over-long line) once `until` appears on it.
 */
async function screen(args: string, width: number, until: RegExp): Promise<{ text: string; title: string }> {
  const name = `s${++sessions}`;
  const script = join(mkdtempSync(join(tmpdir(), 'bs-screen-')), 'run.sh');
  writeFileSync(
    script,
    [
      `export PATH='${process.env.PATH}' TERM=xterm-256color NO_COLOR=1 XDG_CONFIG_HOME='${join(home, 'config')}'`,
      `export BUILDSTATE_API_URL='${stack.url}' BUILDSTATE_API_TOKEN='${ADMIN_KEY}'`,
      `unset COLUMNS`,
      `'${process.execPath}' '${BLDST_BIN}' ${args}`,
      'echo "__EXIT $?"',
      'sleep 600',
    ].join('\n'),
  );
  execFileSync('tmux', [
    '-L',
    SOCKET,
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(width),
    '-y',
    '80',
    `sh ${script}`,
  ]);
  try {
    for (;;) {
      const text = execFileSync('tmux', ['-L', SOCKET, 'capture-pane', '-p', '-J', '-t', name], {
        encoding: 'utf8',
      });
      if (until.test(text)) {
        const title = execFileSync(
          'tmux',
          ['-L', SOCKET, 'display-message', '-p', '-t', name, '#{pane_title}'],
          {
            encoding: 'utf8',
          },
        ).trim();
        return { text: text.trimEnd(), title };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    execFileSync('tmux', ['-L', SOCKET, 'kill-session', '-t', name]);
  }
}

const lines = (text: string) => text.split('\n');
const fits = (text: string, width: number) => {
  for (const line of lines(text)) expect([displayWidth(line) <= width, line]).toEqual([true, line]);
};
/** Every child has a line with its whole id and its region. */
const childrenApart = (text: string) => {
  for (const c of children) expect(lines(text).find((l) => l.includes(c.id))).toContain(c.region);
};

describeTmux.each([80, 100, 160])('at %i columns', (width) => {
  it('build list: fits, ids whole, every child labelled by its region, hostile text shown as text', async () => {
    const { text, title } = await screen('build list --project-id screens', width, /__EXIT 0/);
    fits(text, width);
    childrenApart(text);
    expect(text).toContain(PARENT);
    expect(title).not.toContain('pwned');
  });

  it('dashboard summary: work avoided, totals that add up, children apart', async () => {
    const { text } = await screen('dashboard summary', width, /__EXIT 0/);
    fits(text, width);
    childrenApart(text);
    expect(text).toMatch(/work avoided \(completed work not re-run on resume\): \S+ in 7 days/);
    const head = text.match(/^(\d+) builds: (.*)$/m)!;
    const parts = [...head[2]!.matchAll(/(\d+) [a-z ]+/g)].map((m) => Number(m[1]));
    expect(parts.reduce((a, b) => a + b, 0)).toBe(Number(head[1]));
  });

  it('watch PARENT: one line per child with its region, wrapped at words; the hostile error inert', async () => {
    const { text, title } = await screen(`watch ${PARENT}`, width, /\d+ children: /);
    fits(text, width);
    childrenApart(text);
    expect(text).toContain('\\e]0;pwned\\a\\e[2J\\u202eevil');
    expect(text).toContain('構築に失敗 🚀');
    expect(title).not.toContain('pwned');
    // The status words are never split across lines.
    expect(text).not.toMatch(/(comp|in pro|fai)\n/);
  });

  it('watch (all active): a table that fits, each child with its region', async () => {
    const { text } = await screen('watch', width, /active builds?/);
    const table = await screen('watch', width, new RegExp(children[5]!.id));
    fits(table.text, width);
    childrenApart(table.text);
    expect(text).toMatch(/\d+ active builds/);
  });

  it('--help: wrapped to the terminal, the command options before the global ones', async () => {
    const { text } = await screen('build fork --help', width, /__EXIT 0/);
    const [body, examples] = text.split('\nExamples:\n');
    fits(body!, width);
    expect(body!.indexOf('--children-file')).toBeLessThan(body!.indexOf('Global options:'));
    expect(body!.indexOf('Global options:')).toBeLessThan(body!.indexOf('--output'));
    expect(examples).toContain('bldst build fork $BUILD_ID --at 50');
  });
});

describeTmux('a pipe with COLUMNS', () => {
  it('wraps help at COLUMNS when stdout is not a terminal', async () => {
    const r = await bldst(['build', 'list', '--help'], { env: { COLUMNS: '60' } });
    const [body] = r.stdout.split('\nExamples:\n');
    fits(body!.trimEnd(), 60);
  });
});

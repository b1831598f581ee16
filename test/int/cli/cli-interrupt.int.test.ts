/**
 * Ctrl-C and SIGTERM to real `bldst run` / `pipeline run` processes: the step's whole process
 * group stops, the attempt is recorded as interrupted (not counted), the lease is released, and
 * no number of interruptions blocks the build.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLDST_BIN, buildCli, cliRunner } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const cli = cliRunner(() => stack.url);

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
}, 60_000);
const running: Running[] = [];
afterAll(async () => {
  // A failed test must not leave its bldst (and the step's group) running.
  for (const r of running)
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await stack.stop();
});

interface Running {
  child: ChildProcess;
  stderr(): string;
  done: Promise<{ code: number | null; stderr: string }>;
}

function start(args: string[], env: Record<string, string> = {}, cwd = cli.home): Running {
  const child = spawn(process.execPath, [BLDST_BIN, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      XDG_CONFIG_HOME: join(cli.home, 'config'),
      BUILDSTATE_API_URL: stack.url,
      BUILDSTATE_API_TOKEN: ADMIN_KEY,
      BLDST_WORKER_ID: 'ctrl-c-worker',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout!.resume();
  return {
    child,
    stderr: () => stderr,
    done: new Promise((r) => child.on('close', (code) => r({ code, stderr }))),
  };
}

/** Resolves once `ready()` holds (e.g. the step has started): synchronisation, not a timed assertion. */
async function until(ready: () => boolean, running: Running): Promise<void> {
  let exited = false;
  void running.done.then(() => {
    exited = true;
  });
  while (!ready()) {
    if (exited) throw new Error(`bldst exited before it was ready: ${running.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const whenExists = (file: string, running: Running) => until(() => existsSync(file), running);

/** Running (a zombie left for a PID 1 that does not reap is dead too). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function newBuild(): Promise<string> {
  const r = await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q']);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

describe('interrupting a step', () => {
  it('three interrupted pipeline runs leave the build failed (not blocked), resume says retry, and a fourth run finishes', async () => {
    const id = await newBuild();
    const work = mkdtempSync(join(tmpdir(), 'bs-ctrl-c-'));
    // The step writes the pid of a grandchild (sleep, under sh) so the test can see the group stop.
    writeFileSync(
      join(work, 'step.sh'),
      [
        '#!/bin/sh',
        'if [ -f "$BLDST_PIPELINE_DIR/finish" ]; then exit 0; fi',
        '[ -n "$IGNORE_INT" ] && trap "" INT TERM',
        'sleep 300 &',
        'echo $! > "$BLDST_PIPELINE_DIR/sleep.pid.tmp" && mv "$BLDST_PIPELINE_DIR/sleep.pid.tmp" "$BLDST_PIPELINE_DIR/sleep.pid"',
        'wait',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    writeFileSync(
      join(work, 'pipeline.yaml'),
      `steps:\n  - { state: 10, name: base, run: 'true' }\n  - { state: 25, name: long, run: '"$BLDST_PIPELINE_DIR/step.sh"' }\n  - { state: 100, name: publish, run: 'true' }\n`,
    );
    const pidFile = join(work, 'sleep.pid');
    const interruptOnce = async (
      signals: NodeJS.Signals[],
      env: Record<string, string> = {},
    ): Promise<{ code: number | null; stderr: string; sleepPid: number }> => {
      const run = start(['pipeline', 'run', 'pipeline.yaml', '--build', id, '--workdir', work], env, work);
      running.push(run);
      await whenExists(pidFile, run);
      const sleepPid = Number(readFileSync(pidFile, 'utf8'));
      execFileSync('rm', ['-f', pidFile]);
      for (const [n, s] of signals.entries()) {
        // Signals are not queued: send the next one once bldst has acted on the one before.
        if (n > 0) await until(() => /stopping the step/.test(run.stderr()), run);
        run.child.kill(s);
      }
      return { ...(await run.done), sleepPid };
    };

    // 1. Ctrl-C: forwarded to the step's group (sleep under sh stops too), exit 130.
    const first = await interruptOnce(['SIGINT']);
    expect(first.stderr).toContain(
      'state 25: interrupted (SIGINT); recorded, not counted toward its attempts',
    );
    expect(first.code).toBe(130);
    expect(alive(first.sleepPid)).toBe(false);

    // 2. A step that ignores SIGINT: the second Ctrl-C kills its group.
    const second = await interruptOnce(['SIGINT', 'SIGINT'], {
      IGNORE_INT: '1',
      BLDST_INTERRUPT_GRACE_S: '600',
    });
    expect(second.code).toBe(130);
    expect(alive(second.sleepPid)).toBe(false);

    // 3. SIGTERM to a step that ignores it: the grace period runs out, SIGKILL, exit 143.
    const third = await interruptOnce(['SIGTERM'], { IGNORE_INT: '1', BLDST_INTERRUPT_GRACE_S: '1' });
    expect(third.stderr).toContain('SIGTERM: stopping the step (SIGKILL in 1 s');
    expect(third.code).toBe(143);
    expect(alive(third.sleepPid)).toBe(false);

    // Three interruptions on a state allowed 3 attempts: not blocked, the lease released.
    const build = (await stack.call('GET', `/builds/${id}`)).body;
    expect(build).toMatchObject({ status: 'failed', current_state: 25, attempt: 3, max_attempts: 6 });
    expect((await stack.call('GET', `/builds/${id}/lease`)).body).toMatchObject({ lease: null });
    const resume = (await stack.call('GET', `/builds/${id}/resume`)).body;
    expect(resume).toMatchObject({ action: 'retry', state_code: 25, attempt: 4 });
    expect(resume.reason).toContain('was interrupted (not counted)');
    const history = (await stack.call('GET', `/builds/${id}/history`)).body.items.filter(
      (h: { status: string }) => h.status === 'failed',
    );
    expect(
      history.map((h: { error_code?: string; error: string }) => [h.error_code, h.error.split(' (')[0]]),
    ).toEqual([
      ['interrupted', 'interrupted by SIGINT'],
      ['interrupted', 'interrupted by SIGINT'],
      ['interrupted', 'interrupted by SIGTERM'],
    ]);

    // 4. The fourth run resumes at 25 and finishes the build.
    writeFileSync(join(work, 'finish'), '');
    const fourth = start(['pipeline', 'run', 'pipeline.yaml', '--build', id, '--workdir', work], {}, work);
    const done = await fourth.done;
    expect(done.stderr).toContain('resume: retry');
    expect(done.code).toBe(0);
    expect((await stack.call('GET', `/builds/${id}`)).body).toMatchObject({ status: 'completed' });
  }, 120_000);

  it('bldst run: SIGTERM is recorded as interrupted and exits 143 with the lease released', async () => {
    const id = await newBuild();
    const dir = mkdtempSync(join(tmpdir(), 'bs-ctrl-c-run-'));
    const ready = join(dir, 'ready');
    const run = start(['run', '--build', id, '--state', '5', '--', 'sh', '-c', `touch ${ready}; sleep 300`]);
    running.push(run);
    await whenExists(ready, run);
    run.child.kill('SIGTERM');
    const { code, stderr } = await run.done;
    expect(stderr).toMatch(/state 5 interrupted; run it again to resume/);
    expect(code).toBe(143);
    expect((await stack.call('GET', `/builds/${id}`)).body).toMatchObject({
      status: 'failed',
      attempt: 1,
      max_attempts: 4,
    });
    expect((await stack.call('GET', `/builds/${id}/lease`)).body).toMatchObject({ lease: null });
  }, 60_000);

  it('bldst run killed with SIGKILL (no handler runs): its watchdog stops the step, which would otherwise run on beside the worker that takes the state over', async () => {
    const id = await newBuild();
    const dir = mkdtempSync(join(tmpdir(), 'bs-kill-run-'));
    const pidFile = join(dir, 'sleep.pid');
    const run = start(
      [
        'run',
        '--build',
        id,
        '--state',
        '5',
        '--lease-ttl',
        '5',
        '--',
        'sh',
        '-c',
        `sleep 300 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; wait`,
      ],
      { BLDST_INTERRUPT_GRACE_S: '2' },
    );
    running.push(run);
    await whenExists(pidFile, run);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(sleeper)).toBe(true);
    run.child.kill('SIGKILL');
    // The step's grandchild goes within the grace period (SIGTERM first; SIGKILL after 2 s).
    for (let waited = 0; alive(sleeper) && waited < 20_000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    const survived = alive(sleeper);
    if (survived) process.kill(sleeper, 'SIGKILL');
    expect(survived).toBe(false);
  }, 60_000);
});

describe('the step environment', () => {
  it('sets every documented variable in a plain step, and $BLDST_PIPELINE_DIR finds the scripts', async () => {
    const id = await newBuild();
    const work = mkdtempSync(join(tmpdir(), 'bs-step-env-'));
    writeFileSync(
      join(work, 'step.sh'),
      '#!/bin/sh\nenv | grep ^BLDST_ | sort > "$BLDST_PIPELINE_DIR/env-$BLDST_STATE"\n',
      {
        mode: 0o755,
      },
    );
    writeFileSync(
      join(work, 'pipeline.yaml'),
      `steps:\n  - { state: 10, name: base, run: '"$BLDST_PIPELINE_DIR/step.sh" && echo x > out.img', artifact: out.img }\n  - { state: 25, name: next, run: '"$BLDST_PIPELINE_DIR/step.sh"' }\n`,
    );
    // Run from another directory: the step finds its script only through $BLDST_PIPELINE_DIR.
    const r = await cli.run([
      'pipeline',
      'run',
      join(work, 'pipeline.yaml'),
      '--build',
      id,
      '--workdir',
      work,
    ]);
    expect(r.stderr).not.toContain('not found');
    expect(r.code).toBe(0);
    const envOf = (state: number) =>
      Object.fromEntries(
        readFileSync(join(work, `env-${state}`), 'utf8')
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    const help = await cli.run(['pipeline', 'run', '--help']);
    const documented = [...help.stdout.matchAll(/^ {2}(BLDST_[A-Z_]+) /gm)].map((m) => m[1]);
    expect(documented).toEqual(expect.arrayContaining(['BLDST_PIPELINE_DIR', 'BLDST_INPUT_ARTIFACT']));
    for (const state of [10, 25])
      expect(Object.keys(envOf(state)).sort()).toEqual(expect.arrayContaining(documented));
    expect(envOf(10)).toMatchObject({
      BLDST_PIPELINE_DIR: work,
      BLDST_BUILD_ID: id,
      BLDST_STATE: '10',
      BLDST_STEP: 'base',
      BLDST_ATTEMPT: '1',
      BLDST_INPUT_ARTIFACT: '',
      BLDST_PARENT_ID: '',
    });
    expect(envOf(25).BLDST_INPUT_ARTIFACT).toBe(join(work, '.bldst', 'inputs', '10', 'out.img'));
  }, 60_000);
});

/**
 * The Ansible collection (integrations/ansible) driven by the real ansible-playbook (Debian's
 * ansible-core 2.14) against the local stack: the callback reports plays as states, the lookup
 * skips completed plays on a second run.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../local/processes';
import { BLDST_BIN, buildCli } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';
import { requireTool, runTool, type ToolResult } from '../../helpers/tools';

const root = resolve(__dirname, '../../..');
const collections = join(root, 'integrations', 'ansible');
const HAVE_ANSIBLE = requireTool('ansible-playbook', 'ansible-core');
const maybe = HAVE_ANSIBLE ? describe : describe.skip;

let stack: TestStack;
const work = mkdtempSync(join(tmpdir(), 'bs-ansible-'));

beforeAll(async () => {
  if (!HAVE_ANSIBLE) return;
  buildCli();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack?.stop());

/** Three milestones, a play without one, and a play whose failure is rescued. */
const PLAYBOOK = `
- name: Kickstart
  hosts: all
  gather_facts: false
  vars: { buildstate_state: 10 }
  pre_tasks:
    - { meta: end_play, when: "lookup('buildstate.buildstate.done', buildstate_state)" }
  tasks:
    - shell: echo 10 >> {{ runs_log }}
- name: Notes
  hosts: all
  gather_facts: false
  tasks:
    - shell: echo notes >> {{ runs_log }}
- name: Baseline
  hosts: all
  gather_facts: false
  vars: { buildstate_state: 20 }
  pre_tasks:
    - { meta: end_play, when: "lookup('buildstate.buildstate.done', buildstate_state)" }
  tasks:
    - shell: echo 20 >> {{ runs_log }}
    - name: optional probe
      command: /bin/false
      ignore_errors: true
- name: Users
  hosts: all
  gather_facts: false
  vars: { buildstate_state: 30 }
  pre_tasks:
    - { meta: end_play, when: "lookup('buildstate.buildstate.done', buildstate_state)" }
  tasks:
    - shell: echo 30 >> {{ runs_log }}
    - name: join the directory
      fail: { msg: "ldap: connection timed out" }
      when: break_at | default('') == '30'
- name: Hardening
  hosts: all
  gather_facts: false
  vars: { buildstate_state: 40 }
  pre_tasks:
    - { meta: end_play, when: "lookup('buildstate.buildstate.done', buildstate_state)" }
  tasks:
    - block:
        - name: fast path
          command: /bin/false
      rescue:
        - shell: echo 40-rescued >> {{ runs_log }}
`;

interface Run {
  dir: string;
  runsLog: string;
}

function project(name: string): Run {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yml'), PLAYBOOK);
  return { dir, runsLog: join(dir, 'runs.log') };
}

/** ansible-playbook on localhost; `wrapper` (e.g. `bldst run … --`) is put in front of it. */
function ansiblePlaybook(
  run: Run,
  env: Record<string, string>,
  extraArgs: string[] = [],
  wrapper: string[] = [],
): Promise<ToolResult> {
  const argv = [
    ...wrapper,
    'ansible-playbook',
    '-i',
    'localhost,',
    '-c',
    'local',
    '-e',
    'ansible_python_interpreter=/usr/bin/python3',
    '-e',
    `runs_log=${run.runsLog}`,
    ...extraArgs,
    'site.yml',
  ];
  return runTool(argv[0], argv.slice(1), {
    cwd: run.dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: run.dir,
      ANSIBLE_COLLECTIONS_PATH: collections,
      ANSIBLE_CALLBACKS_ENABLED: 'buildstate.buildstate.report',
      ANSIBLE_LOCALHOST_WARNING: 'False',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
      BUILDSTATE_API_URL: stack.url,
      BUILDSTATE_API_TOKEN: ADMIN_KEY,
      ...env,
    },
  });
}

async function newBuild(): Promise<string> {
  const created = await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' });
  expect(created.status).toBe(201);
  return created.body.id;
}

interface HistoryItem {
  seq: number;
  event: string;
  state_code: number;
  status: string;
  attempt: number;
  message: string | null;
  error: string | null;
  worker_id: string | null;
}

async function reports(buildId: string): Promise<HistoryItem[]> {
  const history = await stack.call('GET', `/builds/${buildId}/history`);
  expect(history.status).toBe(200);
  return (history.body.items as HistoryItem[]).filter((i) => i.event === 'state_reported');
}

/**
 * A proxy in front of the stack: every request reaches BuildState; `decide` sees the request and
 * BuildState's answer and says whether the client gets it ('pass'), loses the connection before
 * the answer ('drop'), or gets a 503 instead ('fail').
 */
async function startProxy(
  decide: (req: IncomingMessage, answer: IncomingMessage, body: string) => 'pass' | 'drop' | 'fail',
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(stack.url);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          const reply: Buffer[] = [];
          answer.on('data', (c: Buffer) => reply.push(c));
          answer.on('end', () => {
            const verdict = decide(req, answer, body.toString());
            if (verdict === 'drop') {
              req.socket.destroy();
              return;
            }
            if (verdict === 'fail') {
              res.writeHead(503, { 'content-type': 'application/json' });
              res.end('{"error":{"code":"unavailable","message":"Service unavailable","details":{}}}');
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(reply));
          });
        },
      );
      forward.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

const brief = (items: HistoryItem[]) => items.map((i) => `${i.state_code} ${i.status} #${i.attempt}`);
// ansible-core wraps warnings at the terminal width.
const oneLine = (text: string) => text.replace(/\s+/g, ' ');
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n');

maybe('the Ansible callback buildstate.buildstate.report', () => {
  it('reports each play with buildstate_state, records the failing task, and a second run re-runs no completed play', async () => {
    const id = await newBuild();
    const run = project('resume');

    const first = await ansiblePlaybook(run, { BUILDSTATE_BUILD_ID: id }, ['-e', 'break_at=30']);
    expect(first.code).toBe(2); // ansible-playbook: a host failed
    expect(lines(run.runsLog)).toEqual(['10', 'notes', '20', '30']);
    const afterFirst = await reports(id);
    expect(brief(afterFirst)).toEqual([
      '10 in_progress #1',
      '10 completed #1',
      '20 in_progress #1', // the ignored failure of "optional probe" is no failure of the play
      '20 completed #1',
      '30 in_progress #1',
      '30 failed #1',
    ]);
    const failure = afterFirst[5];
    expect(failure.message).toBe("task 'join the directory' failed on localhost");
    expect(failure.error).toBe('join the directory: ldap: connection timed out');
    expect(afterFirst[0].message).toBe("play 'Kickstart' started");
    const worker = afterFirst[0].worker_id;
    expect(worker).toMatch(/^ansible@.+:\d+$/);

    const second = await ansiblePlaybook(run, { BUILDSTATE_BUILD_ID: id });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`buildstate: build ${id} already passed state 10`);
    // Only the failed play and the ones after it ran again; the play without a state always runs.
    expect(lines(run.runsLog)).toEqual(['10', 'notes', '20', '30', 'notes', '30', '40-rescued']);
    const afterSecond = (await reports(id)).slice(afterFirst.length);
    expect(brief(afterSecond)).toEqual([
      '30 in_progress #2',
      '30 completed #2',
      '40 in_progress #1', // the failure of "fast path" was rescued: not reported
      '40 completed #1',
    ]);
    expect(afterSecond[0].worker_id).not.toBe(worker);

    // The callback took a lease per run and released it.
    const lease = await stack.call('GET', `/builds/${id}/lease`);
    expect(lease.body).toMatchObject({ lease: null, lease_fence: 2 });

    const third = await ansiblePlaybook(run, { BUILDSTATE_BUILD_ID: id });
    expect(third.code).toBe(0);
    expect(lines(run.runsLog).slice(7)).toEqual(['notes']);
    expect(await reports(id)).toHaveLength(afterFirst.length + afterSecond.length);
  }, 120_000);

  it('retries a report whose answer was lost under the same idempotency key: recorded once', async () => {
    const id = await newBuild();
    const run = project('idempotency');
    // A proxy that lets the first state report reach BuildState and then drops the connection
    // before the answer gets back: the callback must retry, and the retry must be a replay.
    const seen: { key: string; replayed: string | undefined }[] = [];
    let dropped = false;
    const proxy = await startProxy((req, answer) => {
      if (req.method !== 'POST' || !req.url?.endsWith('/states')) return 'pass';
      seen.push({
        key: String(req.headers['idempotency-key']),
        replayed: answer.headers['idempotent-replayed'] as string | undefined,
      });
      if (dropped) return 'pass';
      dropped = true;
      return 'drop';
    });
    try {
      const result = await ansiblePlaybook(run, {
        BUILDSTATE_BUILD_ID: id,
        BUILDSTATE_API_URL: proxy.url,
        BUILDSTATE_RUN_ID: 'ci-981',
      });
      expect(result.code).toBe(0);
    } finally {
      await proxy.close();
    }
    expect(seen[0]).toEqual({ key: 'ansible-ci-981-10-in_progress', replayed: undefined });
    expect(seen[1]).toEqual({ key: 'ansible-ci-981-10-in_progress', replayed: 'true' });
    expect(seen.slice(2).map((s) => s.key)).toEqual([
      'ansible-ci-981-10-completed',
      'ansible-ci-981-20-in_progress',
      'ansible-ci-981-20-completed',
      'ansible-ci-981-30-in_progress',
      'ansible-ci-981-30-completed',
      'ansible-ci-981-40-in_progress',
      'ansible-ci-981-40-completed',
    ]);
    expect(brief(await reports(id))).toEqual([
      '10 in_progress #1',
      '10 completed #1',
      '20 in_progress #1',
      '20 completed #1',
      '30 in_progress #1',
      '30 completed #1',
      '40 in_progress #1',
      '40 completed #1',
    ]);
  }, 120_000);

  it("under `bldst run --build ID` reports under bldst's lease and worker id, taking no lease of its own", async () => {
    const id = await newBuild();
    const run = project('under-bldst');
    const env = { XDG_CONFIG_HOME: join(run.dir, 'config'), BLDST_WORKER_ID: 'pool-7' };
    const wrapped = await ansiblePlaybook(
      run,
      env,
      [],
      [process.execPath, BLDST_BIN, 'run', '--build', id, '--'],
    );
    expect(wrapped.code).toBe(0);
    const all = await reports(id);
    expect(brief(all)).toEqual([
      '10 in_progress #1',
      '10 completed #1',
      '20 in_progress #1',
      '20 completed #1',
      '30 in_progress #1',
      '30 completed #1',
      '40 in_progress #1',
      '40 completed #1',
    ]);
    expect(new Set(all.map((r) => r.worker_id))).toEqual(new Set(['pool-7']));
    // One lease in all (fence 1): bldst's. Had the callback taken its own with the same worker id,
    // it would have replaced bldst's (fence 2) and bldst's renewal would have failed.
    const lease = await stack.call('GET', `/builds/${id}/lease`);
    expect(lease.body).toMatchObject({ lease: null, lease_fence: 1 });
    expect(wrapped.stderr).not.toMatch(/lease lost|WARNING/);
  }, 120_000);

  it('warns and goes on when BuildState is unreachable; with strict the playbook fails before any work', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const lenient = project('unreachable');
    const env = { BUILDSTATE_BUILD_ID: 'nowhere', BUILDSTATE_API_URL: closed, BUILDSTATE_RETRIES: '0' };
    const goesOn = await ansiblePlaybook(lenient, env);
    expect(goesOn.code).toBe(0);
    expect(lines(lenient.runsLog)).toEqual(['10', 'notes', '20', '30', '40-rescued']);
    expect(oneLine(goesOn.stderr)).toMatch(
      /\[WARNING\]: buildstate: state 10 in_progress not reported: cannot reach/,
    );

    const strict = project('strict');
    const stops = await ansiblePlaybook(strict, { ...env, BUILDSTATE_STRICT: 'true' });
    expect(stops.code).toBe(1);
    expect(oneLine(stops.stderr)).toMatch(
      /\[ERROR\]: buildstate: no lease on build nowhere: cannot reach .* \(strict: stopping the playbook\)/,
    );
    expect(() => readFileSync(strict.runsLog)).toThrow(/ENOENT/);
  }, 120_000);

  it('with strict, a report BuildState cannot take mid-play stops the playbook (exit 1) and releases the lease', async () => {
    const id = await newBuild();
    const run = project('strict-mid-play');
    // The failure report of state 30 reaches BuildState, but every answer to it is a 503: the
    // callback retries (a replay under the same key), then gives up.
    const proxy = await startProxy((req, _answer, body) =>
      req.method === 'POST' && req.url?.endsWith('/states') && body.includes('"failed"') ? 'fail' : 'pass',
    );
    let result: ToolResult;
    try {
      result = await ansiblePlaybook(
        run,
        {
          BUILDSTATE_BUILD_ID: id,
          BUILDSTATE_API_URL: proxy.url,
          BUILDSTATE_STRICT: 'true',
          BUILDSTATE_RETRIES: '1',
        },
        ['-e', 'break_at=30'],
      );
    } finally {
      await proxy.close();
    }
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toContain(
      `[ERROR]: buildstate: state 30 failed not reported: POST /builds/${id}/states: HTTP 503 unavailable (strict: stopping the playbook)`,
    );
    expect(brief(await reports(id)).slice(-2)).toEqual(['30 in_progress #1', '30 failed #1']);
    expect((await stack.call('GET', `/builds/${id}/lease`)).body).toMatchObject({
      lease: null,
      lease_fence: 1,
    });
  }, 120_000);

  it("runs the README's example playbook: two states, then nothing on a second run", async () => {
    const id = await newBuild();
    const example = join(collections, 'example', 'site.yml');
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: work,
      ANSIBLE_COLLECTIONS_PATH: collections,
      ANSIBLE_CALLBACKS_ENABLED: 'buildstate.buildstate.report',
      ANSIBLE_LOCALHOST_WARNING: 'False',
      BUILDSTATE_API_URL: stack.url,
      BUILDSTATE_API_TOKEN: ADMIN_KEY,
      BUILDSTATE_BUILD_ID: id,
    };
    const args = [
      '-i',
      'localhost,',
      '-c',
      'local',
      '-e',
      'ansible_python_interpreter=/usr/bin/python3',
      example,
    ];
    expect((await runTool('ansible-playbook', args, { env })).code).toBe(0);
    const again = await runTool('ansible-playbook', args, { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already passed state 50`);
    expect(brief(await reports(id))).toEqual([
      '25 in_progress #1',
      '25 completed #1',
      '50 in_progress #1',
      '50 completed #1',
    ]);
  }, 120_000);

  it('is declared as a collection: ansible-doc reads its options and ansible-galaxy packs it', async () => {
    const doc = await runTool('ansible-doc', ['-t', 'callback', '--json', 'buildstate.buildstate.report'], {
      env: { PATH: process.env.PATH ?? '', HOME: work, ANSIBLE_COLLECTIONS_PATH: collections },
    });
    expect(doc.code).toBe(0);
    const options = JSON.parse(doc.stdout)['buildstate.buildstate.report'].doc.options;
    expect(options.api_url.env).toEqual([{ name: 'BUILDSTATE_API_URL' }]);
    expect(options.build_id.env.map((e: { name: string }) => e.name)).toEqual([
      'BUILDSTATE_BUILD_ID',
      'BLDST_BUILD_ID',
    ]);
    expect(options.strict.ini).toEqual([{ section: 'buildstate', key: 'strict' }]);

    const out = join(work, 'galaxy');
    const built = await runTool(
      'ansible-galaxy',
      [
        'collection',
        'build',
        join(collections, 'ansible_collections', 'buildstate', 'buildstate'),
        '--output-path',
        out,
      ],
      { env: { PATH: process.env.PATH ?? '', HOME: work } },
    );
    expect(built.code).toBe(0);
    expect(built.stdout).toContain('buildstate-buildstate-0.1.0.tar.gz');
  }, 60_000);
});

/**
 * No acknowledged write is lost when the whole local stack (`npm start`'s process group: the
 * server and its DynamoDB Local) is SIGKILLed while workers report. Several rounds on one data
 * folder: 8 workers report with Idempotency-Keys, the group is killed mid-stream, the stack is
 * started again on the same folder, and every report that was answered 201 must be in its build's
 * history at its version, and its retry with the same key must be answered with the replay.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const bundle = join(root, '.build', 'test', `kill-start-${process.pid}.mjs`);
const dataDir = mkdtempSync(join(tmpdir(), 'bs-kill-'));
const KEY = 'bst_kill_test_admin_key_0123456789';
/** Without the fix, round 0 already lost the last acknowledged report of one worker in the first run. */
const ROUNDS = Number(process.env.BUILDSTATE_KILL_ROUNDS || 2);
const WORKERS = 8;
/** Acknowledged reports per round before the kill (the kill lands while the rest are in flight). */
const ACKS_BEFORE_KILL = 120;

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-local.mjs', 'local/start.ts', bundle], { cwd: root });
});
let current: ChildProcess | undefined;
afterAll(() => {
  if (current?.pid && current.exitCode === null) process.kill(-current.pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(bundle, { force: true });
});

/** `npm start` in its own process group (as a terminal runs it), on the shared data folder. */
async function start(): Promise<string> {
  const child = spawn(process.execPath, [bundle], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      BUILDSTATE_DATA_DIR: dataDir,
      BUILDSTATE_ACCESS_LOG: '0',
      BUILDSTATE_SAMPLE_DATA: '1',
      BUILDSTATE_STUCK_INTERVAL_S: '3600',
      BUILDSTATE_BOOTSTRAP_ADMIN_KEY: KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  current = child;
  let out = '';
  child.stdout!.on('data', (c) => {
    out += c;
  });
  child.stderr!.on('data', (c) => {
    out += c;
  });
  while (!/Stop with Ctrl-C/.test(out)) {
    if (child.exitCode !== null) throw new Error(`start failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return /running at (\S+)/.exec(out)![1]!;
}

function killGroup(): Promise<void> {
  const child = current!;
  return new Promise((done) => {
    child.once('exit', () => done());
    process.kill(-child.pid!, 'SIGKILL');
  });
}

interface Ack {
  build: string;
  key: string;
  body: Record<string, unknown>;
  version: number;
}

const call = (
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  fetch(`${url}${path}`, {
    method,
    headers: { 'x-api-key': KEY, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

it(`loses no acknowledged report over ${ROUNDS} SIGKILLs of the whole stack`, async () => {
  const acked: Ack[] = [];
  const builds: string[] = [];
  let url = await start();
  for (let round = 0; round < ROUNDS; round++) {
    let acks = 0;
    let stopping = false;
    const worker = async (w: number) => {
      const build = `kill-r${round}-w${w}`;
      const created = await call(
        url,
        'POST',
        '/builds',
        { id: build, platform_id: 'aws', image_type_id: 'base' },
        {
          'idempotency-key': `create-${build}`,
        },
      );
      if (created.status !== 201)
        throw new Error(`create ${build}: ${created.status} ${await created.text()}`);
      builds.push(build);
      for (let code = 1; !stopping && code < 100; code++) {
        for (const status of ['in_progress', 'completed'] as const) {
          const key = `${build}-${code}-${status}`;
          const body = { state_code: code, status, worker_id: `w${w}` };
          try {
            const res = await call(url, 'POST', `/builds/${build}/states`, body, { 'idempotency-key': key });
            if (res.status !== 201) throw new Error(`${key}: ${res.status} ${await res.text()}`);
            const answer = (await res.json()) as { version: number };
            acked.push({ build, key, body, version: answer.version });
            acks++;
          } catch (error) {
            if (stopping) return; // in flight when the stack died: not acknowledged
            throw error;
          }
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    while (acks < ACKS_BEFORE_KILL) await new Promise((r) => setTimeout(r, 5));
    stopping = true;
    await killGroup();
    await Promise.all(workers);
    url = await start();
    // Every acknowledged report is there, at its version, and its retry is the replay.
    const missing: string[] = [];
    for (const ack of acked.filter((a) => a.build.startsWith(`kill-r${round}-`))) {
      const history = (await (await call(url, 'GET', `/builds/${ack.build}/history?limit=500`)).json()) as {
        items: { seq: number; state_code: number; status: string }[];
      };
      const entry = history.items.find((h) => h.seq === ack.version);
      if (!entry || entry.state_code !== ack.body.state_code || entry.status !== ack.body.status)
        missing.push(`${ack.key} (version ${ack.version}) not in history`);
      const replay = await call(url, 'POST', `/builds/${ack.build}/states`, ack.body, {
        'idempotency-key': ack.key,
      });
      if (replay.status !== 201 || replay.headers.get('idempotent-replayed') !== 'true')
        missing.push(
          `${ack.key}: retry answered ${replay.status} ${replay.headers.get('idempotent-replayed')}`,
        );
    }
    expect({ round, acknowledged: acked.length, missing }).toEqual({
      round,
      acknowledged: acked.length,
      missing: [],
    });
  }
  await killGroup();
}, 600_000);

/**
 * The rough edges an outside test found in bldst's transfers (issue 26's follow-up): what a user
 * reads when a transfer is interrupted, resumed, or waits for a service that stopped answering,
 * and that -q means no notes. The real CLI against DynamoDB Local and the local S3 server.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../cli/client';
import { uploadMultipart } from '../../../cli/upload';
import { UploadRepository } from '../../../lib/artifacts/upload.repository';
import { MiB } from '../../../lib/artifacts/upload-plan';
import { services } from '../../../lib/runtime';
import { BLDST_BIN, buildCli, cliRunner } from '../../helpers/cli';
import { startForwardProxy } from '../../helpers/forward-proxy';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
let cli: ReturnType<typeof cliRunner>;
const dir = mkdtempSync(join(tmpdir(), 'bs-edges-'));

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
  cli = cliRunner(() => stack.url);
}, 60_000);
afterAll(() => stack.stop());

async function buildAt10(): Promise<string> {
  const { id } = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'x' })).body;
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' });
  return id as string;
}

function randomFile(path: string, bytes: number): string {
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** An upload of `path` as `name` at state `state`, stopped after its first confirmed part (as if killed). */
async function stoppedAfterOnePart(id: string, state: number, path: string, size: number, name: string) {
  const client = new Client(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
  await expect(
    uploadMultipart(client, id, state, path, size, {
      name,
      partSize: 5 * MiB,
      parallel: 1,
      onProgress: (done) => {
        if (done > 0) throw new Error('stopped');
      },
    }),
  ).rejects.toThrow('stopped');
}

/** bldst on a pseudo-terminal (script -qec): what a person at a terminal sees, \r and all. */
const onTty = (args: string[], cwd: string): Promise<{ code: number; out: string }> =>
  new Promise((done) =>
    execFile(
      'script',
      ['-qec', [process.execPath, BLDST_BIN, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'],
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? '',
          XDG_CONFIG_HOME: join(cwd, 'config'),
          BUILDSTATE_API_URL: stack.url,
          BUILDSTATE_API_TOKEN: ADMIN_KEY,
          BLDST_WORKER_ID: 'test-worker',
          TERM: 'xterm',
          COLUMNS: '200',
        },
      },
      (error, stdout) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout }),
    ),
  );

describe('-q means no notes', () => {
  it('run --artifact -q resuming an upload does not print "resuming upload"; without -q it does', async () => {
    const work = mkdtempSync(join(dir, 'q-'));
    const path = join(work, 'disk.raw');
    randomFile(path, 12 * MiB);
    /** A build whose state 20 failed after its upload stopped at one part: run --state 20 retries it. */
    const withStoppedUpload = async () => {
      const id = await buildAt10();
      await stack.call('POST', `/builds/${id}/states`, { state_code: 20, status: 'in_progress' });
      await stoppedAfterOnePart(id, 20, path, 12 * MiB, 'disk.raw');
      await stack.call('POST', `/builds/${id}/states`, { state_code: 20, status: 'failed', error: 'x' });
      return id;
    };
    const run = (id: string, ...extra: string[]) =>
      cli.run(
        [
          'run',
          '--build',
          id,
          '--state',
          '20',
          '--artifact',
          'disk.raw',
          '--part-size',
          '5MiB',
          ...extra,
          '--',
          'true',
        ],
        { cwd: work },
      );
    const q = await run(await withStoppedUpload(), '-q');
    expect(q.code).toBe(0);
    expect(q.stderr).toMatch(/state 20: artifact disk\.raw uploaded and verified/);
    expect(q.stderr).not.toMatch(/resuming upload/);

    const loud = await run(await withStoppedUpload());
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(/^bldst: resuming upload \S+: 1 of 3 parts already stored$/m);
  }, 60_000);
});

describe('the read pass line, where progress is shown', () => {
  const pipelineFile = (work: string) =>
    writeFileSync(
      join(work, 'p.yaml'),
      [
        'steps:',
        '  - state: 20',
        '    name: image',
        `    run: head -c ${12 * MiB} /dev/urandom > image.raw`,
        '    artifact: image.raw',
        '',
      ].join('\n'),
    );

  it('pipeline run --progress on a pipe: "reading … to checksum it" to 100%, then the transfer', async () => {
    const id = await buildAt10();
    const work = mkdtempSync(join(dir, 'pipe-'));
    pipelineFile(work);
    const res = await cli.run(
      ['pipeline', 'run', 'p.yaml', '--build', id, '--part-size', '5MiB', '--progress'],
      {
        cwd: work,
      },
    );
    expect(res.code).toBe(0);
    const lines = res.stderr.split('\n');
    const reading = lines.indexOf('reading artifact image.raw to checksum it … 100%');
    const sent = lines.findIndex((l) => /^artifact image\.raw {2}12\.0 MiB \/ 12\.0 MiB {2}100% /.test(l));
    expect(reading).toBeGreaterThan(-1);
    expect(sent).toBeGreaterThan(reading);

    // Without --progress a pipe gets neither line.
    const other = await buildAt10();
    const plain = await cli.run(['pipeline', 'run', 'p.yaml', '--build', other, '--part-size', '5MiB'], {
      cwd: work,
    });
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/to checksum it|MiB \/ 12\.0 MiB/);
  }, 150_000); // two pipeline runs with an upload each: ~4 s alone, over 60 s once in a loaded CI

  it('pipeline run on a terminal: the reading line and the transfer line, no step line drawn over them; -q: none', async () => {
    const id = await buildAt10();
    const work = mkdtempSync(join(dir, 'tty-'));
    pipelineFile(work);
    const res = await onTty(['pipeline', 'run', 'p.yaml', '--build', id, '--part-size', '5MiB'], work);
    expect(res.code).toBe(0);
    const from = res.out.indexOf('reading artifact image.raw to checksum it');
    expect(from).toBeGreaterThan(-1);
    const upload = res.out.slice(from, res.out.indexOf('uploaded and verified'));
    expect(upload).toMatch(/artifact image\.raw {2}12\.0 MiB \/ 12\.0 MiB {2}100%/);
    expect(upload).not.toMatch(/— running/);

    const other = await buildAt10();
    const quiet = await onTty(
      ['pipeline', 'run', 'p.yaml', '--build', other, '--part-size', '5MiB', '-q'],
      work,
    );
    expect(quiet.code).toBe(0);
    expect(quiet.out).toMatch(/uploaded and verified/);
    expect(quiet.out).not.toMatch(/to checksum it|MiB \/ 12\.0 MiB/);
  }, 150_000); // two pipeline runs with an upload each: ~4 s alone, over 60 s once in a loaded CI
});

describe('Ctrl-C during artifact upload', () => {
  it('says once how many parts are stored (with -q too), exits 130; the same command continues from them', async () => {
    const id = await buildAt10();
    const work = mkdtempSync(join(dir, 'int-'));
    const path = join(work, 'disk.raw');
    const checksum = randomFile(path, 30 * MiB);
    // Parts to S3 at 2 MiB/s per connection: 6 parts of 5 MiB, 2 at once, take ~8 s.
    const proxy = await startForwardProxy({ bytesPerSecond: 2 * MiB });
    const args = ['artifact', 'upload', id, 'disk.raw', '--state', '10', '--part-size', '5MiB'];
    const child = spawn(process.execPath, [BLDST_BIN, ...args, '--parallel', '2', '-q'], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '',
        XDG_CONFIG_HOME: join(work, 'config'),
        BUILDSTATE_API_URL: stack.url,
        BUILDSTATE_API_TOKEN: ADMIN_KEY,
        HTTP_PROXY: proxy.url,
        NO_PROXY: new URL(stack.url).host,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<[number | null, string | null]>((r) =>
      child.on('exit', (c, sig) => r([c, sig])),
    );
    const uploads = new UploadRepository(services().db, stack.tableName);
    const confirmed = async () => {
      const u = await uploads.get(id, 10, 'disk.raw');
      return u ? (await uploads.parts(u)).length : 0;
    };
    try {
      while ((await confirmed()) < 1) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      expect(await exited).toEqual([130, null]);
    } finally {
      child.kill('SIGKILL');
      await proxy.stop();
    }
    const stored = await confirmed();
    expect(stored).toBeGreaterThanOrEqual(1);
    expect(stored).toBeLessThan(6);
    // bldst counts the confirmations it got an answer to; one committed as the signal came may
    // still be on its way back: those are said as "may be".
    const said =
      /^bldst: interrupted: (\d) of 6 parts are stored(?: \((\d) more may be: their confirmation had no answer yet\))?; run the same command again to continue\n$/.exec(
        stderr,
      );
    expect(said).not.toBeNull();
    const [sure, maybe] = [Number(said![1]), Number(said![2] ?? 0)];
    expect(stored).toBeGreaterThanOrEqual(sure);
    expect(stored).toBeLessThanOrEqual(sure + maybe);

    const again = await cli.run(args, { cwd: work });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(`^resuming upload \\S+: ${stored} of 6 parts already stored$`, 'm'),
    );
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/disk.raw`)).body).toMatchObject({
      verified: true,
      checksum,
    });
  }, 60_000);
});

describe('download parallelism', () => {
  it('fetches 10 ranges at once by default, as aws s3 cp: 10 connections to the store through a proxy', async () => {
    const id = await buildAt10();
    const work = mkdtempSync(join(dir, 'par-'));
    const checksum = randomFile(join(work, 'img.raw'), 24 * MiB);
    const up = await cli.run(['artifact', 'upload', id, 'img.raw', '--state', '10', '-q'], { cwd: work });
    expect(up.code).toBe(0);
    // Paced so that the ranges overlap; kept-alive connections are reused once free, so the
    // connections opened to the proxy are the GETs in flight at once.
    const proxy = await startForwardProxy({ bytesPerSecond: 4 * MiB });
    try {
      const down = await cli.run(
        ['artifact', 'download', id, '--state', '10', '--name', 'img.raw', '-O', 'copy.raw'],
        {
          cwd: work,
          env: {
            HTTP_PROXY: proxy.url,
            NO_PROXY: new URL(stack.url).host,
            BLDST_DOWNLOAD_RANGE_BYTES: String(MiB),
          },
        },
      );
      expect(down.code).toBe(0);
      expect(down.stderr).toContain(`copy.raw: ${24 * MiB} bytes, ${checksum} (matches)`);
      expect(proxy.requests.filter((r) => r.method === 'GET' && r.range)).toHaveLength(24);
      expect(proxy.connections()).toBe(10);
    } finally {
      await proxy.stop();
    }
  }, 60_000);
});

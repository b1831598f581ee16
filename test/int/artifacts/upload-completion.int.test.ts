/**
 * Asynchronous completion of multipart uploads (docs/ARTIFACTS.md "Completion"): `complete`
 * answers 202 and a job run from the table stream assembles and verifies the upload. This stack
 * runs no completion worker of its own (`completeUploads: false`): each test starts the stream
 * reader that plays the worker Lambda when it wants one, so a lost worker is simply one that never
 * ran. Completion leases last 5 s here (BUILDSTATE_UPLOAD_COMPLETION_LEASE_S).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Crc32Js } from '@aws-sdk/checksums/crc';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { artifactKey, uploadKey } from '../../../lib/artifacts/artifact.keys';
import { type Upload, UploadRepository } from '../../../lib/artifacts/upload.repository';
import { MiB } from '../../../lib/artifacts/upload-plan';
import { uploadCompletion } from '../../../lib/compose/upload-completion';
import { ENV } from '../../../lib/config/env';
import { services } from '../../../lib/runtime';
import { type EventStream, startEventStream } from '../../../local/event-stream';
import { BLDST_BIN, buildCli, cliRunner } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

process.env[ENV.uploadCompletionLeaseSeconds] = '5';

let stack: TestStack;
let cli: ReturnType<typeof cliRunner>;
const dir = mkdtempSync(join(tmpdir(), 'bs-cmpl-'));
beforeAll(async () => {
  buildCli();
  stack = await startTestStack({ completeUploads: false });
  cli = cliRunner(() => stack.url);
}, 60_000);
afterAll(() => stack.stop());

/** The completion worker (the stream consumer the Lambda is), reading the table's stream from its start. */
const startWorker = (): Promise<EventStream> =>
  startEventStream({
    endpoint: process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    region: services().config.region,
    retryLoopAfter: 3,
    publish: false,
    aggregate: false,
    sign: false,
    pollMs: 100,
  });

const uploads = () => new UploadRepository(services().db, stack.tableName);
const crcOf = async (data: Buffer) => {
  const c = new Crc32Js();
  c.update(data);
  return Buffer.from(await c.digest()).toString('base64');
};
const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function buildAt10() {
  const { id } = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'x' })).body;
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' });
  return id as string;
}

/** An upload of `data` in 5 MiB parts, every part sent and confirmed; `declared` overrides what the start call declares. */
async function uploadedParts(
  id: string,
  name: string,
  data: Buffer,
  declared: { checksum?: string; crc32?: string } = {},
) {
  const started = await stack.call('POST', `/builds/${id}/states/10/artifacts/${name}/uploads`, {
    size_bytes: data.length,
    checksum: declared.checksum ?? sha(data),
    crc32: declared.crc32 ?? (await crcOf(data)),
    part_size: 5 * MiB,
  });
  expect(started.status).toBe(201);
  const at = `/builds/${id}/states/10/artifacts/${name}/uploads/${encodeURIComponent(started.body.upload_id)}`;
  const pieces: Buffer[] = [];
  for (let o = 0; o < data.length; o += 5 * MiB) pieces.push(data.subarray(o, o + 5 * MiB));
  const crcs = await Promise.all(pieces.map(crcOf));
  const urls = await stack.call('POST', `${at}/urls`, {
    parts: crcs.map((crc, n) => ({ part_number: n + 1, crc32: crc })),
  });
  const confirmed = [];
  for (const [n, u] of urls.body.urls.entries()) {
    const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: pieces[n] });
    expect(put.status).toBe(200);
    confirmed.push({ part_number: n + 1, etag: put.headers.get('etag'), crc32: crcs[n] });
  }
  expect((await stack.call('POST', `${at}/parts`, { parts: confirmed })).status).toBe(200);
  return { at, uploadId: started.body.upload_id as string };
}

async function pollUntilSettled(at: string) {
  for (;;) {
    const res = await stack.call('GET', at);
    expect(res.status).toBe(200);
    if (res.body.status !== 'completing') return res.body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('answers 202 with the upload; repeats while it completes get 202 and start no second job; the worker verifies it', async () => {
  const id = await buildAt10();
  const data = randomBytes(21 * MiB);
  const { at, uploadId } = await uploadedParts(id, 'async.raw', data);

  const first = await stack.call('POST', `${at}/complete`);
  expect(first.status).toBe(202);
  expect(first.headers.get('location')).toBe(at);
  expect(first.body).toMatchObject({ upload_id: uploadId, status: 'completing', part_count: 5 });
  const job = (await uploads().get(id, 10, 'async.raw'))!.job;
  expect(job).toEqual(expect.any(String));

  const repeats = await Promise.all([1, 2, 3].map(() => stack.call('POST', `${at}/complete`)));
  for (const r of repeats) {
    expect(r.status).toBe(202);
    expect(r.body).toEqual(first.body);
  }
  expect((await stack.call('GET', at)).body).toEqual(first.body);
  expect((await uploads().get(id, 10, 'async.raw'))!.job).toBe(job);

  const worker = await startWorker();
  try {
    expect(await pollUntilSettled(at)).toMatchObject({ status: 'verified' });
    await worker.drain();
    // One job for this upload, however often it was asked.
    expect(worker.completions).toMatchObject({ verified: 1, failed: 0, errors: 0 });
  } finally {
    await worker.stop();
  }
  const artifact = await stack.call('POST', `${at}/complete`);
  expect(artifact.status).toBe(200);
  expect(artifact.body).toMatchObject({ verified: true, checksum: sha(data), size_bytes: data.length });
}, 60_000);

it('restarts a completion whose worker was lost once its lease ends, and the restarted job verifies it', async () => {
  const id = await buildAt10();
  const data = randomBytes(20 * MiB);
  const { at } = await uploadedParts(id, 'lost.raw', data);
  expect((await stack.call('POST', `${at}/complete`)).status).toBe(202);
  const lost = (await uploads().get(id, 10, 'lost.raw'))!;
  expect(lost.status).toBe('completing');

  // No worker ran it. Within the lease a poll changes nothing; after it, the poll restarts the job.
  expect((await stack.call('GET', at)).body.lease_until).toBe(lost.lease_until);
  await new Promise((r) => setTimeout(r, Date.parse(lost.lease_until!) - Date.now() + 200));
  const restarted = await stack.call('GET', at);
  expect(restarted.body.status).toBe('completing');
  expect(Date.parse(restarted.body.lease_until)).toBeGreaterThan(Date.parse(lost.lease_until!));
  const now = (await uploads().get(id, 10, 'lost.raw'))!;
  expect(now.job).not.toBe(lost.job);

  // The worker then reads both writes: the lost job's record finds another job holding the upload.
  const worker = await startWorker();
  try {
    expect(await pollUntilSettled(at)).toMatchObject({ status: 'verified' });
    await worker.drain();
  } finally {
    await worker.stop();
  }
  expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/lost.raw`)).body.verified).toBe(true);
}, 60_000);

it('ends failed with a reason when the assembled object does not match what the client declared', async () => {
  const id = await buildAt10();
  const data = randomBytes(20 * MiB);
  const other = randomBytes(16);
  const { at } = await uploadedParts(id, 'bad.raw', data, {
    checksum: sha(other),
    crc32: await crcOf(other),
  });
  expect((await stack.call('POST', `${at}/complete`)).status).toBe(202);
  const worker = await startWorker();
  let settled: { status: string; reason?: { code: string; message: string } };
  try {
    settled = await pollUntilSettled(at);
  } finally {
    await worker.stop();
  }
  expect(settled.status).toBe('failed');
  expect(settled.reason!.code).toBe('checksum_mismatch');
  const again = await stack.call('POST', `${at}/complete`);
  expect(again.status).toBe(409);
  expect(again.body.error.details).toMatchObject({ status: 'failed', reason: settled.reason });
  expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/bad.raw`)).body.verified).toBe(false);
}, 60_000);

it('a job run again after its end was lost finds the artifact verified and ends verified without checking it again', async () => {
  const id = await buildAt10();
  const data = randomBytes(10 * MiB);
  const { at, uploadId } = await uploadedParts(id, 'rerun.raw', data);
  expect((await stack.call('POST', `${at}/complete`)).status).toBe(202);
  const worker = await startWorker();
  try {
    expect(await pollUntilSettled(at)).toMatchObject({ status: 'verified' });
    await worker.drain();
  } finally {
    await worker.stop();
  }
  const artifactAt = `/builds/${id}/states/10/artifacts/rerun.raw`;
  const verified = (await stack.call('GET', artifactAt)).body;
  expect(verified.verified).toBe(true);
  const { job } = (await uploads().get(id, 10, 'rerun.raw'))!;

  // The job's last write lost: the record still says completing under that job.
  const reopen = () =>
    services().db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: uploadKey(id, 10, 'rerun.raw'),
        UpdateExpression: 'SET #s = :c',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':c': 'completing' },
      }),
    );
  await reopen();
  // The worker's composition has no build rules: a second verification of a verified artifact is
  // not what it does (it would have nowhere to record a failure).
  expect(await uploadCompletion().finish(id, 10, 'rerun.raw', uploadId, job!)).toBe('verified');
  expect((await stack.call('GET', artifactAt)).body.verified_at).toBe(verified.verified_at);
  expect((await stack.call('GET', at)).body.status).toBe('verified');

  // Verified meanwhile with another file: the job fails with the reason, the artifact stays as it is.
  await reopen();
  await services().db.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: artifactKey(id, 10, 'rerun.raw'),
      UpdateExpression: 'SET checksum = :c',
      ExpressionAttributeValues: { ':c': sha(Buffer.from('another file')) },
    }),
  );
  expect(await uploadCompletion().finish(id, 10, 'rerun.raw', uploadId, job!)).toBe('failed');
  const failed = (await stack.call('GET', at)).body;
  expect(failed).toMatchObject({ status: 'failed', reason: { code: 'conflict' } });
  expect(failed.reason.message).toContain('verified meanwhile with another file');
  expect((await stack.call('GET', artifactAt)).body.verified).toBe(true);
}, 60_000);

describe('bldst waits for the completion', () => {
  const runUpload = (path: string, id: string) =>
    cli.run(['artifact', 'upload', id, path, '--state', '10', '--part-size', '5MiB', '-o', 'json']);

  /**
   * Runs `bldst artifact upload` of `path` (no completion worker is running yet) until the upload
   * is `completing`, then interrupts it with SIGINT (Ctrl-C): every part sent, the job left to the
   * service. The upload record as it was when bldst was interrupted.
   */
  async function uploadUntilCompleting(id: string, path: string): Promise<Upload> {
    const name = basename(path);
    const child = spawn(
      process.execPath,
      [BLDST_BIN, 'artifact', 'upload', id, path, '--state', '10', '--part-size', '5MiB'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          BUILDSTATE_API_URL: stack.url,
          BUILDSTATE_API_TOKEN: ADMIN_KEY,
          XDG_CONFIG_HOME: join(dir, 'cfg'),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let u = await uploads().get(id, 10, name);
    while (u?.status !== 'completing') {
      await new Promise((r) => setTimeout(r, 50));
      u = await uploads().get(id, 10, name);
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toBe(
      `bldst: interrupted: all ${u.part_count} parts are stored and the service is completing the upload without bldst; run the same command again to wait for it\n`,
    );
    return u;
  }

  it('interrupted while completing leaves the upload to the service; a re-run picks it up and ends verified', async () => {
    const id = await buildAt10();
    const data = randomBytes(22 * MiB);
    const path = join(dir, 'ctrlc.raw');
    writeFileSync(path, data);
    const interrupted = await uploadUntilCompleting(id, path);

    // The re-run sends nothing again (every part is confirmed) and waits for the job.
    const partsBefore = stack.s3.stats.parts;
    const child = spawn(
      process.execPath,
      [BLDST_BIN, 'artifact', 'upload', id, path, '--state', '10', '--part-size', '5MiB', '-o', 'json'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          BUILDSTATE_API_URL: stack.url,
          BUILDSTATE_API_TOKEN: ADMIN_KEY,
          XDG_CONFIG_HOME: join(dir, 'cfg'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => {
      stdout += c;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // The worker starts once the re-run has found the upload: started earlier, on a loaded machine
    // it could verify the upload while the re-run still reads the file (then nothing is resumed).
    await new Promise<void>((resolve) =>
      child.stderr!.on('data', (c) => {
        stderr += c;
        if (stderr.includes('parts already stored')) resolve();
      }),
    );
    const worker = await startWorker();
    try {
      expect(await exited).toBe(0);
      expect(stderr).toBe(`resuming upload ${interrupted.upload_id}: 5 of 5 parts already stored\n`);
      expect(JSON.parse(stdout)).toMatchObject({ verified: true, checksum: sha(data) });
    } finally {
      child.kill('SIGKILL');
      await worker.stop();
    }
    expect(stack.s3.stats.parts).toBe(partsBefore);
  }, 60_000);

  it('stops waiting when the service refuses its poll (its key revoked mid-wait): exit 5, not a silent wait', async () => {
    const id = await buildAt10();
    const path = join(dir, 'revoked.raw');
    writeFileSync(path, randomBytes(11 * MiB));
    await uploadUntilCompleting(id, path);
    const key = await stack.call('POST', '/api-keys', {
      name: 'revoked mid-wait',
      scopes: ['read', 'write'],
    });
    expect(key.status).toBe(201);
    // No completion worker runs: the re-run finds every part stored and waits, polling.
    const child = spawn(
      process.execPath,
      [BLDST_BIN, 'artifact', 'upload', id, path, '--state', '10', '--part-size', '5MiB'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          BUILDSTATE_API_URL: stack.url,
          BUILDSTATE_API_TOKEN: key.body.secret,
          XDG_CONFIG_HOME: join(dir, 'cfg-revoked'),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((resolve) =>
      child.stderr!.on('data', (c) => {
        stderr += c;
        // Printed once the service answered the resume, before the wait for the completion.
        if (stderr.includes('parts already stored')) resolve();
      }),
    );
    expect((await stack.call('DELETE', `/api-keys/${key.body.id}`)).status).toBeLessThan(300);
    expect(await exited).toBe(5);
    expect(stderr).toMatch(/401|unauthor|key/i);
  }, 60_000);

  it('says once that the service stopped answering while it waits, and once that it answers again', async () => {
    const id = await buildAt10();
    const path = join(dir, 'outage.raw');
    const data = randomBytes(11 * MiB);
    writeFileSync(path, data);
    // The service behind a relay that can go dark: while down, every connection is cut at once.
    const target = new URL(stack.url);
    let down = false;
    let polls = 0;
    const open = new Set<Socket>();
    const relay = createServer((socket) => {
      if (down) {
        socket.destroy();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [socket, upstream]) {
        open.add(s);
        s.on('close', () => open.delete(s));
        s.on('error', () => {});
      }
      // Polls seen: the relay goes dark only once bldst polls, i.e. has the 202 of its completion.
      socket.on('data', (chunk: Buffer) => {
        if (/^GET \S*\/uploads\//m.test(chunk.toString('latin1'))) polls++;
      });
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const child = spawn(
      process.execPath,
      [BLDST_BIN, 'artifact', 'upload', id, path, '--state', '10', '--part-size', '5MiB'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          BUILDSTATE_API_URL: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
          BUILDSTATE_API_TOKEN: ADMIN_KEY,
          XDG_CONFIG_HOME: join(dir, 'cfg-outage'),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    const seen = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const look = () => stderr.includes(text) && resolve();
        child.stderr!.on('data', look);
        child.on('exit', (code) =>
          reject(new Error(`bldst exited (${code}) before saying "${text}": ${stderr}`)),
        );
        look();
      });
    child.stderr!.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      while ((await uploads().get(id, 10, 'outage.raw'))?.status !== 'completing' || polls === 0)
        await new Promise((r) => setTimeout(r, 50));
      down = true;
      for (const s of open) s.destroy();
      await seen('the service is not answering');
      // A few more failed polls: still said once.
      await new Promise((r) => setTimeout(r, 1500));
      down = false;
      await seen('the service answers again');
      // The job, run here rather than by a stream reader (which would first read this file's whole
      // stream: over 150 s once in a loaded CI run); bldst's next poll then finds it verified.
      const u = (await uploads().get(id, 10, 'outage.raw'))!;
      expect(await uploadCompletion().finish(id, 10, 'outage.raw', u.upload_id, u.job!)).toBe('verified');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      // Sockets the relay still holds to the gateway would keep the stack from stopping.
      relay.close();
      for (const s of open) s.destroy();
    }
    const lines = stderr.trimEnd().split('\n');
    const notAnswering = lines.filter((l) => l.startsWith('the service is not answering ('));
    expect(notAnswering).toHaveLength(1);
    expect(notAnswering[0]).toMatch(
      /; bldst keeps waiting for the completion of outage\.raw \(Ctrl-C leaves it to the service\)$/,
    );
    expect(
      lines.filter((l) => l === 'the service answers again; waiting for the completion of outage.raw'),
    ).toHaveLength(1);
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/outage.raw`)).body).toMatchObject({
      verified: true,
      checksum: sha(data),
    });
  }, 150_000);

  it('exits 3 with the reason when the completion fails (a part damaged in the store)', async () => {
    const id = await buildAt10();
    const data = randomBytes(21 * MiB);
    const path = join(dir, 'rot.raw');
    writeFileSync(path, data);
    // First run: every part sent; interrupted while completing (no worker yet).
    const u = await uploadUntilCompleting(id, path);
    // A part rots on the local S3 server's disk after S3 accepted it (s3rver keeps parts as files).
    const root = tmpdir();
    const partFile = readdirSync(root)
      .filter((d) => d.startsWith('buildstate-s3-'))
      .map((d) => join(root, d, stack.s3.bucket, '._S3rver_uploads', u.upload_id, '2'))
      .find((f) => {
        try {
          readFileSync(f, { flag: 'r' });
          return true;
        } catch {
          return false;
        }
      });
    expect(partFile).toBeDefined();
    const part = readFileSync(partFile!);
    part[12345] ^= 0xff;
    writeFileSync(partFile!, part);

    const rerun = runUpload(path, id);
    const worker = await startWorker();
    try {
      const res = await rerun;
      expect(res.code).toBe(3);
      expect(res.stderr).toMatch(/upload of rot\.raw failed: .*checksum/i);
    } finally {
      await worker.stop();
    }
    expect((await uploads().get(id, 10, 'rot.raw'))!.status).toBe('failed');
  }, 60_000);
});

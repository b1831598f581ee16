/**
 * Multipart uploads end to end (docs/ARTIFACTS.md "Large artifacts"): the real CLI and handlers
 * against DynamoDB Local and the local S3 server with its checksum front (local/s3-checksums.ts).
 * Small parts (5 MiB) keep the files at 20–40 MiB.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Crc32Js } from '@aws-sdk/checksums/crc';
import { Client } from '../../../cli/client';
import { uploadMultipart } from '../../../cli/upload';
import { ArtifactStore } from '../../../lib/artifacts/artifact.store';
import { createS3Client } from '../../../lib/artifacts/s3-client';
import { sweepUploads } from '../../../lib/artifacts/sweep';
import { UploadRepository } from '../../../lib/artifacts/upload.repository';
import { MiB } from '../../../lib/artifacts/upload-plan';
import { services } from '../../../lib/runtime';
import { BLDST_BIN, buildCli, cliRunner } from '../../helpers/cli';
import { startForwardProxy } from '../../helpers/forward-proxy';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
let cli: ReturnType<typeof cliRunner>;
const dir = mkdtempSync(join(tmpdir(), 'bs-upl-'));

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
  cli = cliRunner(() => stack.url);
}, 60_000);
afterAll(() => stack.stop());

async function buildAt10() {
  const { id } = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'x' })).body;
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' });
  return id as string;
}

function randomFile(name: string, bytes: number): { path: string; sha256: string } {
  const path = join(dir, name);
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return { path, sha256: `sha256:${createHash('sha256').update(data).digest('hex')}` };
}

/** The CRC32 as the AWS SDK computes and sends it (its JavaScript one, not zlib's): base64. */
const crcOf = async (data: Buffer) => {
  const c = new Crc32Js();
  c.update(data);
  return Buffer.from(await c.digest()).toString('base64');
};

const uploads = () => new UploadRepository(services().db, stack.tableName);

describe('bldst artifact upload, multipart', () => {
  it('uploads a file above the part size in parts, verified, and downloads it with the same checksum', async () => {
    const id = await buildAt10();
    const file = randomFile('big.raw', 22 * MiB + 123);
    const before = stack.s3.stats.parts;
    const up = await cli.run([
      'artifact',
      'upload',
      id,
      file.path,
      '--state',
      '10',
      '--part-size',
      '5MiB',
      '-o',
      'json',
    ]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const view = JSON.parse(up.stdout);
    expect(view).toMatchObject({ verified: true, checksum: file.sha256, size_bytes: 22 * MiB + 123 });
    expect(stack.s3.stats.parts - before).toBe(5);
    // The whole-file CRC32 sent at completion (zlib's running value over the read) is the file's own.
    const done = (await uploads().get(id, 10, 'big.raw'))!;
    expect(done.status).toBe('verified');
    expect(done.crc32).toBe(await crcOf(readFileSync(file.path)));

    const copy = join(dir, 'big.copy');
    const down = await cli.run([
      'artifact',
      'download',
      id,
      '--state',
      '10',
      '--name',
      'big.raw',
      '-O',
      copy,
    ]);
    expect(down.code).toBe(0);
    expect(`sha256:${createHash('sha256').update(readFileSync(copy)).digest('hex')}`).toBe(file.sha256);

    // The same file again: nothing is sent, the artifact stays verified.
    const again = await cli.run([
      'artifact',
      'upload',
      id,
      file.path,
      '--state',
      '10',
      '--part-size',
      '5MiB',
      '-o',
      'json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ verified: true, checksum: file.sha256 });
  }, 60_000);

  it.each([
    [['--part-size', '1MiB'], /--part-size 1MiB: must be between 5MiB and 5GiB/],
    [['--part-size', '6GiB'], /--part-size 6GiB: must be between 5MiB and 5GiB/],
    [['--part-size', 'lots'], /--part-size lots/],
    [['--parallel', '0'], /--parallel 0/],
  ])('exits 2 on %j', async (extra, message) => {
    const file = randomFile('small.raw', 1024);
    const res = await cli.run([
      'artifact',
      'upload',
      '01JXXXXXXXXXXXXXXXXXXXXXXX',
      file.path,
      '--state',
      '10',
      ...extra,
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
  });

  it('exits 2 on a file that does not exist', async () => {
    const id = await buildAt10();
    const res = await cli.run([
      'artifact',
      'upload',
      id,
      join(dir, 'nope.raw'),
      '--state',
      '10',
      '--part-size',
      '5MiB',
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot read .*nope\.raw: no such file/);
  });

  it('resumes after SIGKILL: the re-run sends only parts not confirmed (plus those in flight)', async () => {
    const id = await buildAt10();
    const file = randomFile('resume.raw', 40 * MiB);
    const partsBefore = stack.s3.stats.parts;
    const child = spawn(
      process.execPath,
      [
        BLDST_BIN,
        'artifact',
        'upload',
        id,
        file.path,
        '--state',
        '10',
        '--part-size',
        '5MiB',
        '--parallel',
        '2',
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          BUILDSTATE_API_URL: stack.url,
          BUILDSTATE_API_TOKEN: ADMIN_KEY,
          XDG_CONFIG_HOME: join(dir, 'cfg'),
        },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    while (stack.s3.stats.parts - partsBefore < 3) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const open = (await uploads().get(id, 10, 'resume.raw'))!;
    expect(open.status).toBe('open');
    // A confirmation the killed process had already sent may still be being written: count the
    // confirmed parts once two reads 300 ms apart agree.
    let confirmed = -1;
    for (let last = -2; confirmed !== last; ) {
      last = confirmed;
      await new Promise((r) => setTimeout(r, 300));
      confirmed = (await uploads().parts(open)).length;
    }
    expect(confirmed).toBeGreaterThanOrEqual(1);
    expect(confirmed).toBeLessThan(8);

    const sentBefore = stack.s3.stats.partBytes;
    const partsAtRerun = stack.s3.stats.parts;
    const res = await cli.run([
      'artifact',
      'upload',
      id,
      file.path,
      '--state',
      '10',
      '--part-size',
      '5MiB',
      '--parallel',
      '2',
      '-o',
      'json',
    ]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ verified: true, checksum: file.sha256 });
    const resent = stack.s3.stats.parts - partsAtRerun;
    // Only the missing parts went again: never a part the table had confirmed.
    expect(resent).toBe(8 - confirmed);
    expect(stack.s3.stats.partBytes - sentBefore).toBe((8 - confirmed) * 5 * MiB);
    expect((await uploads().get(id, 10, 'resume.raw'))!).toMatchObject({
      upload_id: open.upload_id,
      status: 'verified',
    });
  }, 60_000);

  it("says so on stderr when it resumes (not with -q, never on stdout), and rates only this run's bytes", async () => {
    const id = await buildAt10();
    const client = new Client(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
    const file = randomFile('again.raw', 12 * MiB);
    // Two open uploads of the same file under two names, each stopped after its first part.
    const stopped: Record<string, string> = {};
    for (const name of ['again.raw', 'again-q.raw']) {
      await expect(
        uploadMultipart(client, id, 10, file.path, 12 * MiB, {
          name,
          partSize: 5 * MiB,
          parallel: 1,
          onProgress: (done) => {
            if (done > 0) throw new Error('stopped');
          },
        }),
      ).rejects.toThrow('stopped');
      stopped[name] = (await uploads().get(id, 10, name))!.upload_id;
    }
    const upload = (name: string, ...extra: string[]) =>
      cli.run([
        'artifact',
        'upload',
        id,
        file.path,
        '--state',
        '10',
        '--name',
        name,
        '--part-size',
        '5MiB',
        ...extra,
      ]);

    const res = await upload('again.raw', '--progress', '-o', 'json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ verified: true, checksum: file.sha256 });
    const lines = res.stderr.trimEnd().split('\n');
    // On a pipe with --progress: the read pass, the note, then the transfer from what was stored.
    expect(lines[0]).toMatch(/^reading .*again\.raw to checksum it … \d+%$/);
    expect(lines).toContain(`resuming upload ${stopped['again.raw']}: 1 of 3 parts already stored`);
    const first = lines.findIndex((l) => l.includes(' / 12.0 MiB'));
    expect(first).toBeGreaterThan(
      lines.indexOf(`resuming upload ${stopped['again.raw']}: 1 of 3 parts already stored`),
    );
    expect(lines[first]).toMatch(/again\.raw {2}5\.00 MiB \/ 12\.0 MiB {2}41% {2}0 B\/s {2}ETA -$/);

    const quiet = await upload('again-q.raw', '-q');
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect((await uploads().get(id, 10, 'again-q.raw'))!).toMatchObject({
      upload_id: stopped['again-q.raw'],
      status: 'verified',
    });
  }, 60_000);

  it('starts over when the file changed between runs: the open upload is replaced', async () => {
    const id = await buildAt10();
    const first = randomFile('swap.raw', 12 * MiB);
    const client = new Client(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
    // A first run that stops after its first confirmed part (as if killed).
    await expect(
      uploadMultipart(client, id, 10, first.path, 12 * MiB, {
        name: 'swap.raw',
        partSize: 5 * MiB,
        parallel: 1,
        onProgress: (done) => {
          if (done > 0) throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
    const old = (await uploads().get(id, 10, 'swap.raw'))!;
    const second = randomFile('swap.raw', 11 * MiB);
    const res = await cli.run([
      'artifact',
      'upload',
      id,
      second.path,
      '--state',
      '10',
      '--part-size',
      '5MiB',
      '-o',
      'json',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      verified: true,
      checksum: second.sha256,
      size_bytes: 11 * MiB,
    });
    const now = (await uploads().get(id, 10, 'swap.raw'))!;
    expect(now.upload_id).not.toBe(old.upload_id);
    expect(now.status).toBe('verified');
    // The first run, had it lived on, is told its upload was replaced (409, exit 3), not "no upload".
    const at = `/builds/${id}/states/10/artifacts/swap.raw/uploads/${old.upload_id}`;
    for (const [method, path] of [
      ['GET', at],
      ['POST', `${at}/complete`],
    ] as const) {
      const stale = await stack.call(method, path);
      expect(stale.status).toBe(409);
      expect(stale.body.error).toMatchObject({
        code: 'conflict',
        details: { upload_id: old.upload_id, current_upload_id: now.upload_id, current_status: 'verified' },
      });
      expect(stale.body.error.message).toContain('replaced it');
    }
    // An artifact with no upload at all is still 404.
    const none = await stack.call(
      'GET',
      `/builds/${id}/states/10/artifacts/never.raw/uploads/${old.upload_id}`,
    );
    expect(none.status).toBe(404);
  }, 60_000);

  it('refuses a file changed during the upload: nothing is completed or verified', async () => {
    const id = await buildAt10();
    const file = randomFile('moving.raw', 20 * MiB);
    const client = new Client(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
    let changed = false;
    const error = await uploadMultipart(client, id, 10, file.path, 20 * MiB, {
      name: 'moving.raw',
      partSize: 5 * MiB,
      parallel: 1,
      onProgress: (done) => {
        // After the first part went: part 3 of the file is overwritten in place.
        if (done > 0 && !changed) {
          changed = true;
          const fd = openSync(file.path, 'r+');
          writeSync(fd, randomBytes(4096), 0, 4096, 11 * MiB);
          closeSync(fd);
        }
      },
    }).catch((e: Error & { code?: string; exitCode?: number }) => e);
    expect(error).toMatchObject({ code: 'file_changed', exitCode: 3 });
    expect((error as Error).message).toMatch(/file changed during upload \(part 3/);
    expect((await uploads().get(id, 10, 'moving.raw'))!.status).toBe('open');
    const a = await stack.call('GET', `/builds/${id}/states/10/artifacts/moving.raw`);
    expect(a.body.verified).toBe(false);
  }, 60_000);

  it('refuses a file that grew during the upload (every part still matches): nothing is completed', async () => {
    const id = await buildAt10();
    const file = randomFile('growing.raw', 20 * MiB);
    const client = new Client(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
    let grown = false;
    const error = await uploadMultipart(client, id, 10, file.path, 20 * MiB, {
      name: 'growing.raw',
      partSize: 5 * MiB,
      parallel: 1,
      onProgress: (done) => {
        // After the first part: 1 MiB appended; the four planned ranges read as they did.
        if (done > 0 && !grown) {
          grown = true;
          appendFileSync(file.path, randomBytes(MiB));
        }
      },
    }).catch((e: Error & { code?: string; exitCode?: number }) => e);
    expect(grown).toBe(true);
    expect(error).toMatchObject({ code: 'file_changed', exitCode: 3 });
    expect((error as Error).message).toMatch(
      /file changed during upload \(it is now 22020096 bytes, 20971520 were read\); nothing was completed/,
    );
    const open = (await uploads().get(id, 10, 'growing.raw'))!;
    expect(open.status).toBe('open');
    expect((await uploads().parts(open)).length).toBe(4);
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/growing.raw`)).body.verified).toBe(
      false,
    );

    // The file as it now is: a new upload of 22 MiB, verified with the bytes of the grown file.
    const res = await cli.run([
      'artifact',
      'upload',
      id,
      file.path,
      '--state',
      '10',
      '--part-size',
      '5MiB',
      '-o',
      'json',
    ]);
    expect(res.code).toBe(0);
    const grownSha = `sha256:${createHash('sha256').update(readFileSync(file.path)).digest('hex')}`;
    expect(JSON.parse(res.stdout)).toMatchObject({
      verified: true,
      checksum: grownSha,
      size_bytes: 21 * MiB,
    });
  }, 60_000);

  it('refuses a file truncated during the upload at once (the short part is not left hanging)', async () => {
    const id = await buildAt10();
    const file = randomFile('shrinking.raw', 20 * MiB);
    const client = new Client(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
    let cut = false;
    const error = await uploadMultipart(client, id, 10, file.path, 20 * MiB, {
      name: 'shrinking.raw',
      partSize: 5 * MiB,
      parallel: 1,
      onProgress: (done) => {
        // After the first part: the file ends 2 MiB into part 2, whose PUT declares 5 MiB.
        if (done > 0 && !cut) {
          cut = true;
          truncateSync(file.path, 7 * MiB);
        }
      },
    }).catch((e: Error & { code?: string; exitCode?: number }) => e);
    expect(cut).toBe(true);
    expect(error).toMatchObject({ code: 'file_changed', exitCode: 3 });
    expect((error as Error).message).toMatch(
      /file changed during upload \(part 2: the file ended after 2097152 of its 5242880 bytes\); nothing was completed/,
    );
    const open = (await uploads().get(id, 10, 'shrinking.raw'))!;
    expect(open.status).toBe('open');
    expect((await uploads().parts(open)).length).toBe(1);
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/shrinking.raw`)).body.verified).toBe(
      false,
    );
  }, 60_000);

  it.each([
    [
      'truncated',
      (path: string) => truncateSync(path, 11 * MiB),
      /part \d: the file ended after \d+ of its 5242880 bytes/,
    ],
    [
      'grown',
      (path: string) => appendFileSync(path, randomBytes(MiB)),
      /it is now 22020096 bytes, 20971520 were read/,
    ],
  ])(
    'bldst exits 3 when the file is %s while its parts go through a slow proxy, and leaves the upload open',
    async (how, change, why) => {
      const id = await buildAt10();
      const name = `slow-${how}.raw`;
      const file = randomFile(name, 20 * MiB);
      const slow = await startForwardProxy({ bytesPerSecond: 4 * MiB });
      try {
        const partsBefore = stack.s3.stats.parts;
        const run = cli.run(
          ['artifact', 'upload', id, file.path, '--state', '10', '--part-size', '5MiB', '--parallel', '2'],
          { env: { HTTP_PROXY: slow.url } },
        );
        // Two parts stored, two on their way at 4 MiB/s each: the file changes under them.
        while (stack.s3.stats.parts - partsBefore < 2) await new Promise((r) => setTimeout(r, 20));
        change(file.path);
        const res = await run;
        expect(res.stderr).toMatch(/file changed during upload \(/);
        expect(res.stderr).toMatch(why);
        expect(res.code).toBe(3);
        expect(slow.requests.some((r) => r.method === 'PUT')).toBe(true);
        expect((await uploads().get(id, 10, name))!.status).toBe('open');
        expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/${name}`)).body.verified).toBe(
          false,
        );
      } finally {
        await slow.stop();
      }
    },
    60_000,
  );

  it('drops a part request that goes silent and sends the part again (idle timeout)', async () => {
    const id = await buildAt10();
    const file = randomFile('silent.raw', 12 * MiB);
    // A proxy that swallows the first PUT of part 2 and never answers; everything else goes through.
    const puts: string[] = [];
    const proxy = createServer((req, res) => {
      const url = new URL(req.url ?? '');
      const part = url.searchParams.get('partNumber');
      if (req.method === 'PUT' && part) puts.push(part);
      if (req.method === 'PUT' && part === '2' && puts.filter((p) => p === '2').length === 1) {
        req.resume();
        return;
      }
      const headers = { ...req.headers };
      delete headers['proxy-connection'];
      const up = httpRequest(url, { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const saved = { ...process.env };
    process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    for (const k of ['http_proxy', 'NO_PROXY', 'no_proxy']) delete process.env[k];
    try {
      const client = new Client(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
      const view = await uploadMultipart(client, id, 10, file.path, 12 * MiB, {
        name: 'silent.raw',
        partSize: 5 * MiB,
        parallel: 1,
        idleTimeoutMs: 1000,
      });
      expect(view).toMatchObject({ verified: true, checksum: file.sha256 });
      expect(puts).toEqual(['1', '2', '2', '3']);
    } finally {
      process.env = saved;
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  }, 60_000);
});

describe('the service side of multipart uploads', () => {
  it('the store refuses a corrupted part (its CRC32 is bound in the URL) and completion needs every part', async () => {
    const id = await buildAt10();
    const data = randomBytes(6 * MiB);
    const part1 = data.subarray(0, 5 * MiB);
    const started = await stack.call('POST', `/builds/${id}/states/10/artifacts/c.raw/uploads`, {
      size_bytes: data.length,
      checksum: `sha256:${createHash('sha256').update(data).digest('hex')}`,
      crc32: await crcOf(data),
      part_size: 5 * MiB,
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ part_count: 2, confirmed_parts: [], resumed: false });
    const at = `/builds/${id}/states/10/artifacts/c.raw/uploads/${encodeURIComponent(started.body.upload_id)}`;
    const urls = await stack.call('POST', `${at}/urls`, {
      parts: [{ part_number: 1, crc32: await crcOf(part1) }],
    });
    expect(urls.status).toBe(200);
    const u = urls.body.urls[0];
    expect(u).toMatchObject({ part_number: 1, size_bytes: 5 * MiB });
    const corrupted = Buffer.from(part1);
    corrupted[1000] ^= 0xff;
    const refused = await fetch(u.url, { method: 'PUT', headers: u.headers, body: corrupted });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/BadDigest/);

    const complete = await stack.call('POST', `${at}/complete`);
    expect(complete.status).toBe(409);
    expect(complete.body.error.details.missing_parts).toEqual([1, 2]);
    const a = await stack.call('GET', `/builds/${id}/states/10/artifacts/c.raw`);
    expect(a.body.verified).toBe(false);

    const aborted = await stack.call('DELETE', at);
    expect(aborted.status).toBe(200);
    expect(aborted.body).toMatchObject({ status: 'aborted', store_aborted: false });
  });

  it('completes asynchronously, one job at a time: racing completions both get 202 with the same job, a repeat after it answers the verified artifact', async () => {
    const id = await buildAt10();
    const data = randomBytes(6 * MiB);
    const pieces = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB)];
    const started = await stack.call('POST', `/builds/${id}/states/10/artifacts/race.raw/uploads`, {
      size_bytes: data.length,
      checksum: `sha256:${createHash('sha256').update(data).digest('hex')}`,
      crc32: await crcOf(data),
      part_size: 5 * MiB,
    });
    const at = `/builds/${id}/states/10/artifacts/race.raw/uploads/${encodeURIComponent(started.body.upload_id)}`;
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
    expect((await stack.call('POST', `${at}/parts`, { parts: confirmed })).body.confirmed_parts).toEqual([
      1, 2,
    ]);

    const jobsBefore = stack.events!.completions.started;
    const both = await Promise.all([
      stack.call('POST', `${at}/complete`),
      stack.call('POST', `${at}/complete`),
    ]);
    // Both are accepted (or, if the job was that quick, the second answers its artifact); one job.
    const statuses = both.map((r) => r.status).sort();
    expect([
      [202, 202],
      [200, 202],
    ]).toContainEqual(statuses);
    const accepted = both.find((r) => r.status === 202)!;
    expect(accepted.body).toMatchObject({ status: 'completing', upload_id: started.body.upload_id });
    expect(accepted.headers.get('location')).toBe(at);
    let polled = accepted.body;
    while (polled.status === 'completing') {
      await new Promise((r) => setTimeout(r, 100));
      polled = (await stack.call('GET', at)).body;
    }
    expect(polled.status).toBe('verified');
    expect(stack.events!.completions.started - jobsBefore).toBe(1);
    const again = await stack.call('POST', `${at}/complete`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ verified: true, size_bytes: data.length });
  });

  it('racing starts of different files under one name: the artifact and its current upload always describe the same file, and a start refused 409 changed nothing', async () => {
    const id = await buildAt10();
    const declared = (n: number) => ({
      size_bytes: 6 * MiB + n,
      checksum: `sha256:${createHash('sha256').update(`file ${n}`).digest('hex')}`,
      crc32: Buffer.from([0, 0, 0, n]).toString('base64'),
      part_size: 5 * MiB,
    });
    const at = `/builds/${id}/states/10/artifacts/contended.raw/uploads`;
    expect((await stack.call('POST', at, declared(0))).status).toBe(201);
    for (let round = 0; round < 5; round++) {
      const files = [1, 2, 3, 4, 5, 6].map((k) => round * 10 + k);
      const answers = await Promise.all(files.map((n) => stack.call('POST', at, declared(n))));
      for (const a of answers) expect([201, 409]).toContain(a.status);
      const upload = (await uploads().get(id, 10, 'contended.raw'))!;
      const artifact = (await stack.call('GET', `/builds/${id}/states/10/artifacts/contended.raw`)).body;
      // The record the completion will verify against is the file of the upload that stands.
      expect({ checksum: artifact.checksum, size_bytes: artifact.size_bytes }).toEqual({
        checksum: upload.checksum,
        size_bytes: upload.size_bytes,
      });
      const won = files.filter((_, k) => answers[k]!.status === 201).map((n) => declared(n).checksum);
      expect(won).toContain(upload.checksum);
    }
  });

  it.each([
    [{ part_size: 1024 }, 'part_size'],
    [{ crc32: 'nope' }, 'crc32'],
    [{ crc32: 'AAAAAAAAAAA=' }, 'crc32'], // 8 bytes: a CRC64NVME, not a CRC32
    [{ size_bytes: 60_000 * 5 * MiB, part_size: 5 * MiB }, 'part_size'],
  ])('answers 400 to %j and starts nothing', async (patch, field) => {
    const id = await buildAt10();
    const res = await stack.call('POST', `/builds/${id}/states/10/artifacts/bad.raw/uploads`, {
      size_bytes: 6 * MiB,
      checksum: `sha256:${'a'.repeat(64)}`,
      crc32: 'AAAAAA==',
      part_size: 5 * MiB,
      ...patch,
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toContain(field);
    expect(await uploads().get(id, 10, 'bad.raw')).toBeNull();
  });
});

describe('the sweeper and abandoned uploads', () => {
  it('aborts uploads open longer than 7 days and marks them aborted', async () => {
    const id = await buildAt10();
    const started = await stack.call('POST', `/builds/${id}/states/10/artifacts/left.raw/uploads`, {
      size_bytes: 6 * MiB,
      checksum: `sha256:${'c'.repeat(64)}`,
      crc32: 'AAAAAA==',
      part_size: 5 * MiB,
    });
    expect(started.status).toBe(201);
    const store = new ArtifactStore(
      createS3Client({ region: 'us-east-1', s3Endpoint: stack.s3.endpoint }),
      stack.s3.bucket,
      3600,
    );
    const mine = (r: Awaited<ReturnType<typeof sweepUploads>>) =>
      r.abandoned.filter((a) => a.uploadId === started.body.upload_id);

    const young = await sweepUploads(store, uploads(), { apply: true });
    expect(mine(young)).toEqual([]);
    const later = () => new Date(Date.now() + 8 * 86_400_000);
    const dry = await sweepUploads(store, uploads(), { apply: false, now: later });
    expect(mine(dry)).toHaveLength(1);
    expect((await uploads().get(id, 10, 'left.raw'))!.status).toBe('open');

    const applied = await sweepUploads(store, uploads(), { apply: true, now: later });
    expect(mine(applied)).toHaveLength(1);
    expect((await uploads().get(id, 10, 'left.raw'))!.status).toBe('aborted');
    // Its part URLs are refused from now on; a re-run of the upload starts a new one.
    const urls = await stack.call(
      'POST',
      `/builds/${id}/states/10/artifacts/left.raw/uploads/${encodeURIComponent(started.body.upload_id)}/urls`,
      { parts: [{ part_number: 1, crc32: 'AAAAAA==' }] },
    );
    expect(urls.status).toBe(409);
  });
});

/**
 * A verified artifact cannot be swapped (issue 13, item 5), against the real local S3 server
 * (s3rver, which has no versioning and does not check upload signatures or checksums, so the
 * still valid upload URL really does overwrite the object). After verification, downloads and
 * resume deliver exactly the verified bytes or nothing; a failed re-verification marks the
 * artifact unverified, recorded in the build's history.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestStack, type TestStack } from '../../helpers/stack';

const run = promisify(execFile);
let stack: TestStack;
const work = mkdtempSync(join(tmpdir(), 'bs-swap-'));
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function curl(args: string[]): Promise<number> {
  const { stdout } = await run('curl', ['-s', '-m', '20', '-w', '%{http_code}', ...args]);
  return Number(stdout);
}
const upload = (file: string, u: { url: string; headers: Record<string, string> }) =>
  curl([
    '-o',
    '/dev/null',
    '-T',
    file,
    ...Object.entries(u.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    u.url,
  ]);

/**
 * Other bytes written over the object. With the URL's signed x-amz-checksum-sha256 the store
 * refuses them (S3, and local mode's checksum front), so the swap is made the way a writer with
 * bucket access would: without that header (the local server checks no signatures).
 */
const overwrite = (file: string, u: { url: string; headers: Record<string, string> }) => {
  const { 'x-amz-checksum-sha256': _signedChecksum, ...headers } = u.headers;
  return upload(file, { url: u.url, headers });
};

/** A build whose state 10 completed with img.raw (2048 bytes) uploaded and verified; state 20 failed. */
async function verifiedImage(id: string) {
  expect(
    (await stack.call('POST', '/builds', { id, platform_id: 'aws', image_type_id: 'rhel9' })).status,
  ).toBe(201);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'in_progress' })).status,
  ).toBe(201);
  const good = randomBytes(2048);
  const reg = await stack.call('POST', `/builds/${id}/states/10/artifacts`, {
    name: 'img.raw',
    storage_type: 's3',
    size_bytes: 2048,
    checksum: sha256(good),
  });
  expect(reg.status).toBe(201);
  const goodFile = join(work, `${id}-good.raw`);
  writeFileSync(goodFile, good);
  expect(await upload(goodFile, reg.body.upload)).toBe(200);
  expect((await stack.call('POST', `/builds/${id}/states/10/artifacts/img.raw/verify`)).status).toBe(200);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' })).status,
  ).toBe(201);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 20, status: 'failed', error: 'x' }))
      .status,
  ).toBe(201);
  const resume = await stack.call('GET', `/builds/${id}/resume`);
  expect(resume.body.input_artifacts).toHaveLength(1);
  // The swap: 2048 other bytes through the same, still valid upload URL.
  const badFile = join(work, `${id}-bad.raw`);
  writeFileSync(badFile, randomBytes(2048));
  return { good, goodFile, badFile, uploadUrl: reg.body.upload };
}

interface HistoryItem {
  event: string;
  state_code: number;
  message: string | null;
  metadata: Record<string, unknown> | null;
}
const unverifiedEntries = async (id: string) =>
  ((await stack.call('GET', `/builds/${id}/history`)).body.items as HistoryItem[]).filter(
    (h) => h.event === 'artifact_unverified',
  );

it('after a swap, resume offers nothing and the artifact is unverified, recorded in history', async () => {
  const id = 'swap-resume';
  const { badFile, uploadUrl } = await verifiedImage(id);
  expect(await overwrite(badFile, uploadUrl)).toBe(200);

  const resume = await stack.call('GET', `/builds/${id}/resume`);
  expect(resume.body).toMatchObject({ action: 'retry', state_code: 20, input_artifacts: [] });
  const artifact = await stack.call('GET', `/builds/${id}/states/10/artifacts/img.raw`);
  expect(artifact.body.verified).toBe(false);
  const entries = await unverifiedEntries(id);
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({
    event: 'artifact_unverified',
    state_code: 20,
    build_status: 'failed',
    metadata: { artifact: { state_code: 10, name: 'img.raw' }, check: 'download' },
  });
  expect(entries[0]!.message).toMatch(/img.raw.*written again after verification/);
  // History stays gap-free.
  const seqs = (await stack.call('GET', `/builds/${id}/history`)).body.items.map(
    (h: { seq: number }) => h.seq,
  );
  expect(seqs).toEqual(seqs.map((_: number, n: number) => n + 1));

  // Verifying the swapped bytes says why, and changes nothing more.
  const again = await stack.call('POST', `/builds/${id}/states/10/artifacts/img.raw/verify`);
  expect([again.status, again.body.error.code]).toEqual([409, 'checksum_mismatch']);
  expect(await unverifiedEntries(id)).toHaveLength(1);
});

it('a failed re-verification unverifies the artifact, recorded in history; the right bytes verify again', async () => {
  const id = 'swap-verify';
  const { good, goodFile, badFile, uploadUrl } = await verifiedImage(id);
  expect(await overwrite(badFile, uploadUrl)).toBe(200);

  const again = await stack.call('POST', `/builds/${id}/states/10/artifacts/img.raw/verify`);
  expect([again.status, again.body.error.code]).toEqual([409, 'checksum_mismatch']);
  expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/img.raw`)).body.verified).toBe(false);
  const entries = await unverifiedEntries(id);
  expect(entries).toHaveLength(1);
  expect(entries[0]!.metadata).toMatchObject({ check: 'verify', field: 'checksum', expected: sha256(good) });
  expect((await stack.call('GET', `/builds/${id}/resume`)).body.input_artifacts).toEqual([]);

  // Put the verified bytes back and verify: resume offers them again, and the download is exactly them.
  expect(await upload(goodFile, uploadUrl)).toBe(200);
  expect((await stack.call('POST', `/builds/${id}/states/10/artifacts/img.raw/verify`)).status).toBe(200);
  const resume = await stack.call('GET', `/builds/${id}/resume`);
  expect(resume.body.input_artifacts).toHaveLength(1);
  expect(resume.body.input_artifacts[0].checksum).toBe(sha256(good));
  const out = join(work, `${id}-download.raw`);
  expect(await curl(['-o', out, resume.body.input_artifacts[0].download.url])).toBe(200);
  expect(sha256(readFileSync(out))).toBe(sha256(good));
});

it('an upload of the same bytes again changes nothing', async () => {
  const id = 'swap-same';
  const { goodFile, uploadUrl } = await verifiedImage(id);
  expect(await upload(goodFile, uploadUrl)).toBe(200);
  expect((await stack.call('GET', `/builds/${id}/resume`)).body.input_artifacts).toHaveLength(1);
  expect(await unverifiedEntries(id)).toEqual([]);
});

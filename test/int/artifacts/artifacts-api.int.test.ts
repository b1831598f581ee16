/** Artifacts end to end: gateway, handlers, DynamoDB Local and the local S3 server, with real curl. */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../helpers/stack';

const run = promisify(execFile);
let stack: TestStack;
let s3: S3Client;
const work = mkdtempSync(join(tmpdir(), 'bs-art-'));

beforeAll(async () => {
  stack = await startTestStack();
  s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
});
afterAll(async () => {
  s3.destroy();
  await stack.stop();
});

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function buildAt(states: [number, string][]) {
  const { id } = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body;
  for (const [state_code, status] of states) {
    const res = await stack.call('POST', `/builds/${id}/states`, { state_code, status });
    expect(res.status).toBe(201);
  }
  return id as string;
}

/** `curl -T file -H … url`, exactly as a worker would run it. */
async function curlUpload(file: string, upload: { url: string; headers: Record<string, string> }) {
  const headerArgs = Object.entries(upload.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const { stdout } = await run('curl', [
    '-s',
    '-m',
    '20',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-T',
    file,
    ...headerArgs,
    upload.url,
  ]);
  return Number(stdout);
}

async function curlDownload(url: string, file: string) {
  const { stdout } = await run('curl', ['-s', '-m', '20', '-o', file, '-w', '%{http_code}', url]);
  return Number(stdout);
}

describe('managed uploads', () => {
  it('uploads with plain curl -T, round-trips metadata through S3, and verifies', async () => {
    const id = await buildAt([[25, 'completed']]);
    const image = randomBytes(256 * 1024);
    const file = join(work, 'image.qcow2');
    writeFileSync(file, image);

    const reg = await stack.call('POST', `/builds/${id}/states/25/artifacts`, {
      name: 'image.qcow2',
      storage_type: 's3',
      size_bytes: image.length,
      checksum: sha256(image),
      format: 'qcow2',
      metadata: { packer: '1.9.1' },
    });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({
      managed: true,
      verified: false,
      object_key: `builds/${id}/states/25/image.qcow2`,
      uri: `s3://buildstate-artifacts/builds/${id}/states/25/image.qcow2`,
      upload: { method: 'PUT', expires_at: expect.any(String) },
    });
    expect(reg.body.upload.headers).toMatchObject({
      'x-amz-meta-sha256': sha256(image).slice(7),
      'x-amz-meta-storage_type': 's3',
      'x-amz-checksum-sha256': createHash('sha256').update(image).digest('base64'),
    });
    expect(await curlUpload(file, reg.body.upload)).toBe(200);

    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'buildstate-artifacts', Key: reg.body.object_key }),
    );
    expect(head.ContentLength).toBe(image.length);
    expect(head.Metadata).toMatchObject({
      sha256: sha256(image).slice(7),
      size_bytes: String(image.length),
      storage_type: 's3',
      format: 'qcow2',
      build_id: id,
      state_code: '25',
      name: 'image.qcow2',
    });

    const verified = await stack.call('POST', `/builds/${id}/states/25/artifacts/image.qcow2/verify`);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      verified: true,
      checksum: sha256(image),
      size_bytes: image.length,
    });
    expect(verified.body.verified_at).toEqual(expect.any(String));
  });

  it('refuses to verify an upload whose bytes differ from the registered checksum', async () => {
    const id = await buildAt([[10, 'completed']]);
    const promised = randomBytes(1024);
    const reg = await stack.call('POST', `/builds/${id}/states/10/artifacts`, {
      name: 'disk.raw',
      storage_type: 's3',
      checksum: sha256(promised),
    });
    const other = join(work, 'other.raw');
    writeFileSync(other, randomBytes(1024));
    // With its signed x-amz-checksum-sha256 the store refuses other bytes (S3, and local mode's
    // checksum front)...
    expect(await curlUpload(other, reg.body.upload)).toBe(400);
    // ...so they are written without it (the local server checks no signatures): verify catches them.
    const { 'x-amz-checksum-sha256': _signed, ...unsigned } = reg.body.upload.headers;
    expect(await curlUpload(other, { url: reg.body.upload.url, headers: unsigned })).toBe(200);
    const res = await stack.call('POST', `/builds/${id}/states/10/artifacts/disk.raw/verify`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'checksum_mismatch',
      details: { field: 'checksum', expected: sha256(promised), actual: sha256(readFileSync(other)) },
    });
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/disk.raw`)).body.verified).toBe(false);
  });

  it('computes the checksum when none was registered, and says when nothing was uploaded yet', async () => {
    const id = await buildAt([[10, 'completed']]);
    await stack.call('POST', `/builds/${id}/states/10/artifacts`, { name: 'seed.iso', storage_type: 's3' });
    const early = await stack.call('POST', `/builds/${id}/states/10/artifacts/seed.iso/verify`);
    expect([early.status, early.body.error.code]).toEqual([409, 'artifact_not_uploaded']);
    const again = await stack.call('POST', `/builds/${id}/states/10/artifacts`, {
      name: 'seed.iso',
      storage_type: 's3',
    });
    expect(again.status).toBe(200); // same body: idempotent, with a fresh upload URL
    const data = randomBytes(4096);
    const file = join(work, 'seed.iso');
    writeFileSync(file, data);
    // The ready-made command, run by a shell in the folder that holds the file.
    await run('sh', ['-c', again.body.upload.curl], { cwd: work });
    const ok = await stack.call('POST', `/builds/${id}/states/10/artifacts/seed.iso/verify`);
    expect(ok.body).toMatchObject({ verified: true, checksum: sha256(data), size_bytes: 4096 });
  });
});

describe('external pointers', () => {
  it('writes a zero-byte pointer whose S3 metadata describes the artifact', async () => {
    const id = await buildAt([[30, 'completed']]);
    const checksum = sha256(Buffer.from('on nfs'));
    const res = await stack.call('POST', `/builds/${id}/states/30/artifacts`, {
      name: 'state-30.qcow2',
      storage_type: 'nfs',
      uri: 'nfs://filer01/builds/sap-123/state-30.qcow2',
      size_bytes: 6,
      checksum,
      format: 'qcow2',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      managed: false,
      uri: 'nfs://filer01/builds/sap-123/state-30.qcow2',
      verified: false,
    });
    expect(res.body.upload).toBeUndefined();
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'buildstate-artifacts', Key: res.body.object_key }),
    );
    expect(head.ContentLength).toBe(0);
    expect(head.Metadata).toMatchObject({
      uri: 'nfs://filer01/builds/sap-123/state-30.qcow2',
      storage_type: 'nfs',
      sha256: checksum.slice(7),
      size_bytes: '6',
      format: 'qcow2',
    });

    // The service cannot read nfs: without what a worker observed, nothing is claimed.
    const blind = await stack.call('POST', `/builds/${id}/states/30/artifacts/state-30.qcow2/verify`);
    expect([blind.status, blind.body.error.code]).toEqual([409, 'checksum_required']);
    const wrong = await stack.call('POST', `/builds/${id}/states/30/artifacts/state-30.qcow2/verify`, {
      checksum: sha256(Buffer.from('corrupted')),
      size_bytes: 9,
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([409, 'checksum_mismatch']);
    const right = await stack.call('POST', `/builds/${id}/states/30/artifacts/state-30.qcow2/verify`, {
      checksum,
      size_bytes: 6,
    });
    expect(right.body).toMatchObject({ verified: true, checksum, size_bytes: 6 });
    expect(right.body.download).toBeUndefined();
  });

  it('is idempotent for the same body and refuses a different checksum', async () => {
    const id = await buildAt([[30, 'completed']]);
    const body = {
      name: 'img.vmdk',
      storage_type: 'ceph',
      uri: 'ceph://pool/img.vmdk',
      checksum: sha256(Buffer.from('a')),
    };
    expect((await stack.call('POST', `/builds/${id}/states/30/artifacts`, body)).status).toBe(201);
    expect((await stack.call('POST', `/builds/${id}/states/30/artifacts`, body)).status).toBe(200);
    const other = await stack.call('POST', `/builds/${id}/states/30/artifacts`, {
      ...body,
      checksum: sha256(Buffer.from('b')),
    });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({
      code: 'artifact_exists',
      details: { existing: { checksum: body.checksum }, requested: { checksum: sha256(Buffer.from('b')) } },
    });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'buildstate-artifacts', Key: `builds/${id}/states/30/img.vmdk` }),
    );
    expect(head.Metadata?.sha256).toBe(body.checksum.slice(7));
  });

  it('needs a checksum, registered or observed, to verify', async () => {
    const id = await buildAt([[5, 'completed']]);
    await stack.call('POST', `/builds/${id}/states/5/artifacts`, {
      name: 'ks.log',
      storage_type: 'http',
      uri: 'https://logs/ks.log',
    });
    const res = await stack.call('POST', `/builds/${id}/states/5/artifacts/ks.log/verify`);
    expect([res.status, res.body.error.code]).toEqual([409, 'checksum_required']);
  });
});

describe('resume across build servers', () => {
  it('worker A completes 25 with an artifact and fails 50; worker B resumes with that artifact', async () => {
    // Worker A
    const id = await buildAt([
      [0, 'completed'],
      [10, 'completed'],
    ]);
    await stack.call('POST', `/builds/${id}/states`, {
      state_code: 25,
      status: 'in_progress',
      worker_id: 'server-a',
    });
    const image = randomBytes(512 * 1024);
    const fileA = join(work, 'a-state-25.qcow2');
    writeFileSync(fileA, image);
    const reg = await stack.call('POST', `/builds/${id}/states/25/artifacts`, {
      name: 'image.qcow2',
      storage_type: 's3',
      checksum: sha256(image),
      size_bytes: image.length,
    });
    expect(await curlUpload(fileA, reg.body.upload)).toBe(200);
    expect((await stack.call('POST', `/builds/${id}/states/25/artifacts/image.qcow2/verify`)).status).toBe(
      200,
    );
    await stack.call('POST', `/builds/${id}/states`, {
      state_code: 25,
      status: 'completed',
      worker_id: 'server-a',
    });
    await stack.call('POST', `/builds/${id}/states`, {
      state_code: 50,
      status: 'in_progress',
      worker_id: 'server-a',
    });
    await stack.call('POST', `/builds/${id}/states`, {
      state_code: 50,
      status: 'failed',
      error: 'ldap timeout',
      worker_id: 'server-a',
    });

    // Worker B knows only the build id.
    const resume = await stack.call('GET', `/builds/${id}/resume`);
    expect(resume.body).toMatchObject({
      action: 'retry',
      state_code: 50,
      attempt: 2,
      last_completed_state: 25,
    });
    expect(resume.body.input_artifacts).toHaveLength(1);
    const input = resume.body.input_artifacts[0];
    expect(input).toMatchObject({
      state_code: 25,
      name: 'image.qcow2',
      checksum: sha256(image),
      verified: true,
    });
    const fileB = join(work, 'b-input.qcow2');
    expect(await curlDownload(input.download.url, fileB)).toBe(200);
    expect(sha256(readFileSync(fileB))).toBe(input.checksum);
  });

  it('offers nothing from states that did not complete or artifacts that are not verified', async () => {
    const id = await buildAt([[10, 'completed']]);
    await stack.call('POST', `/builds/${id}/states/10/artifacts`, {
      name: 'unverified.raw',
      storage_type: 's3',
    });
    await stack.call('POST', `/builds/${id}/states`, { state_code: 20, status: 'failed' });
    const checksum = sha256(Buffer.from('x'));
    await stack.call('POST', `/builds/${id}/states/20/artifacts`, {
      name: 'partial.raw',
      storage_type: 'nfs',
      uri: '/mnt/p.raw',
      checksum,
    });
    await stack.call('POST', `/builds/${id}/states/20/artifacts/partial.raw/verify`);
    expect((await stack.call('GET', `/builds/${id}/resume`)).body.input_artifacts).toEqual([]);
  });
});

describe('listing and reading', () => {
  it('groups all artifacts by state and gives managed ones a download URL', async () => {
    const id = await buildAt([
      [10, 'completed'],
      [20, 'completed'],
    ]);
    await stack.call('POST', `/builds/${id}/states/20/artifacts`, { name: 'b.raw', storage_type: 's3' });
    await stack.call('POST', `/builds/${id}/states/10/artifacts`, {
      name: 'a.raw',
      storage_type: 'gcs',
      uri: 'gs://bkt/a.raw',
    });
    await stack.call('POST', `/builds/${id}/states/20/artifacts`, { name: 'a.raw', storage_type: 's3' });
    const list = await stack.call('GET', `/builds/${id}/artifacts`);
    expect(
      list.body.states.map((s: { state_code: number; artifacts: { name: string }[] }) => [
        s.state_code,
        s.artifacts.map((a) => a.name),
      ]),
    ).toEqual([
      [10, ['a.raw']],
      [20, ['a.raw', 'b.raw']],
    ]);
    const one = await stack.call('GET', `/builds/${id}/states/20/artifacts/b.raw`);
    expect(one.body.download).toMatchObject({
      url: expect.stringContaining(`builds/${id}/states/20/b.raw`),
      expires_at: expect.any(String),
    });
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/nope.raw`)).status).toBe(404);
  });
});

describe('bad input', () => {
  it.each([
    ['a name with a slash', { name: 'a/b.raw', storage_type: 's3' }],
    ['a parent-directory name', { name: '..', storage_type: 's3' }],
    ['a hidden name', { name: '.bashrc', storage_type: 's3' }],
    ['a control character', { name: 'a\u0007.raw', storage_type: 's3' }],
    ['an unknown storage type', { name: 'a.raw', storage_type: 'dropbox', uri: 'x://y' }],
    ['a negative size', { name: 'a.raw', storage_type: 's3', size_bytes: -1 }],
    ['a checksum without algorithm', { name: 'a.raw', storage_type: 's3', checksum: 'abc123' }],
    ['an md5 checksum', { name: 'a.raw', storage_type: 's3', checksum: `md5:${'a'.repeat(32)}` }],
    ['a short sha256', { name: 'a.raw', storage_type: 's3', checksum: 'sha256:abc' }],
    ['external storage without uri', { name: 'a.raw', storage_type: 'nfs' }],
    ['a relative uri', { name: 'a.raw', storage_type: 'nfs', uri: 'builds/a.raw' }],
    ['an unknown field', { name: 'a.raw', storage_type: 's3', path: '/x' }],
  ])('rejects %s with 400 and writes nothing', async (_name, body) => {
    const id = await buildAt([[10, 'completed']]);
    const res = await stack.call('POST', `/builds/${id}/states/10/artifacts`, body);
    expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
    expect((await stack.call('GET', `/builds/${id}/artifacts`)).body.states).toEqual([]);
  });

  it('rejects artifacts for states the build has not reached, bad codes and bad names in paths', async () => {
    const id = await buildAt([[10, 'completed']]);
    const ahead = await stack.call('POST', `/builds/${id}/states/15/artifacts`, {
      name: 'a.raw',
      storage_type: 's3',
    });
    expect([ahead.status, ahead.body.error.code]).toEqual([409, 'state_not_reached']);
    expect(
      (await stack.call('POST', `/builds/${id}/states/101/artifacts`, { name: 'a.raw', storage_type: 's3' }))
        .status,
    ).toBe(400);
    expect(
      (await stack.call('POST', `/builds/${id}/states/1e1/artifacts`, { name: 'a.raw', storage_type: 's3' }))
        .status,
    ).toBe(400);
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/..%2Fetc`)).status).toBe(400);
    expect(
      (await stack.call('POST', `/builds/nope/states/5/artifacts`, { name: 'a.raw', storage_type: 's3' }))
        .status,
    ).toBe(404);
  });
});

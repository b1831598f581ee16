/**
 * SignedS3, the S3 calls the Lambda functions make without the S3 client: its presigned URLs are
 * the SDK presigner's, byte for byte, and against the local S3 server it reads and writes objects
 * exactly as ArtifactStore (the client) does.
 */
import { createHash } from 'node:crypto';
import { globalAgent as httpAgent } from 'node:http';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ArtifactStore } from '../../lib/artifacts/artifact.store';
import { createS3Client } from '../../lib/artifacts/s3-client';
import { SignedObjectStore } from '../../lib/artifacts/signed-s3';
import { freePort } from '../../local/processes';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const BUCKET = 'buildstate-artifacts';
const signingDate = new Date('2026-12-01T12:00:00Z');
const KEY = "builds/01JSIGNED/states/10/disk image (v1)!'*.qcow2";

describe('presigned URLs are the SDK presigner’s', () => {
  const env = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDSIGNEDS3TEST',
      AWS_SECRET_ACCESS_KEY: 'secret/for+the=test',
      AWS_SESSION_TOKEN: 'session-token',
    });
  });
  afterAll(() => {
    process.env = env;
  });

  const sdk = (endpoint?: string, region = 'eu-west-1') =>
    new S3Client({
      region,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(endpoint
        ? {
            endpoint,
            forcePathStyle: true,
            credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          }
        : {}),
    });
  const ours = (s3Endpoint?: string, region = 'eu-west-1') =>
    new SignedObjectStore({
      region,
      s3Endpoint,
      artifactsBucket: BUCKET,
      presignExpirySeconds: 900,
      clock: () => signingDate,
    });
  const metadata = { uri: 's3://buildstate-artifacts/x', name: "disk image (v1)!'*.qcow2", format: 'qcow2' };
  const headersOf = (sha256: string | null) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
    if (sha256) headers['x-amz-checksum-sha256'] = Buffer.from(sha256, 'hex').toString('base64');
    return headers;
  };

  it.each([
    ['AWS (virtual-hosted, session token)', undefined, 'eu-west-1'],
    ['AWS GovCloud (US)', undefined, 'us-gov-west-1'],
    ['AWS China (amazonaws.com.cn)', undefined, 'cn-north-1'],
    ['the local server (path style)', 'http://127.0.0.1:4569', 'eu-west-1'],
  ])('for %s', async (_where, endpoint, region) => {
    const client = sdk(endpoint, region);
    const store = ours(endpoint, region);
    for (const versionId of [null, 'v1.2+x']) {
      const expected = await getSignedUrl(
        client,
        new GetObjectCommand({ Bucket: BUCKET, Key: KEY, VersionId: versionId ?? undefined }),
        { expiresIn: 900, signingDate },
      );
      expect((await store.presignGet(KEY, versionId)).url).toBe(expected);
    }
    for (const [sha256, size] of [
      ['ab'.repeat(32), 12],
      [null, null],
    ] as const) {
      const headers = headersOf(sha256);
      const signable = new Set(Object.keys(headers));
      if (size !== null) signable.add('content-length');
      const expected = await getSignedUrl(
        client,
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: KEY,
          Metadata: metadata,
          ChecksumSHA256: headers['x-amz-checksum-sha256'],
          ContentLength: size ?? undefined,
        }),
        {
          expiresIn: 900,
          signingDate,
          signableHeaders: signable,
          unhoistableHeaders: new Set(Object.keys(headers)),
        },
      );
      const upload = await store.presignPut(KEY, metadata, sha256, size);
      expect(upload).toMatchObject({ url: expected, method: 'PUT', headers });
      expect(upload.expires_at).toBe('2026-12-01T12:15:00.000Z');
    }
  });
});

describe('against the local S3 server, as ArtifactStore', () => {
  const signed = () =>
    new SignedObjectStore({ region: 'us-east-1', s3Endpoint: stack.s3.endpoint, artifactsBucket: BUCKET });
  const client = () =>
    new ArtifactStore(createS3Client({ region: 'us-east-1', s3Endpoint: stack.s3.endpoint }), BUCKET, 3600);

  it('writes pointer objects whose metadata both read back the same', async () => {
    const key = 'builds/01JSIGNEDPOINTER/states/10/p (1).raw';
    await signed().putPointer(key, {
      uri: 'nfs://filer/p%20(1).raw',
      storage_type: 'nfs',
      name: 'p (1).raw',
    });
    const facts = await signed().head(key);
    expect(facts).toMatchObject({
      size: 0,
      metadata: { uri: 'nfs://filer/p%20(1).raw', storage_type: 'nfs', name: 'p (1).raw' },
    });
    expect(facts).toEqual(await client().head(key));
  });

  it('uploads through its presigned PUT, then heads, hashes and downloads the object as the client does', async () => {
    const key = 'builds/01JSIGNEDUPLOAD/states/10/disk.raw';
    const bytes = Buffer.from('the bytes of a disk image\n'.repeat(1000));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const upload = await signed().presignPut(key, { name: 'disk.raw' }, null, bytes.length);
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes });
    expect(put.status).toBe(200);
    const facts = await signed().head(key);
    expect(facts).toMatchObject({ size: bytes.length, metadata: { name: 'disk.raw' } });
    expect(facts).toEqual(await client().head(key));
    expect(await signed().sha256(key)).toEqual({
      sha256,
      size: bytes.length,
      etag: facts!.etag,
      versionId: null,
    });
    const download = await fetch((await signed().presignGet(key)).url);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('reuses kept-alive connections without leaving a listener behind on each request', async () => {
    const store = signed();
    for (let i = 0; i < 25; i++)
      await store.putPointer(`builds/01JSIGNEDREUSE/states/10/p${i}`, { name: `p${i}` });
    await new Promise((resolve) => setImmediate(resolve));
    // The pointer PUTs went over the global agent's kept-alive sockets (Node's default since 19).
    const sockets = Object.values(httpAgent.freeSockets).flat();
    expect(sockets.length).toBeGreaterThan(0);
    expect(sockets.map((socket) => socket!.listenerCount('connect'))).toEqual(sockets.map(() => 0));
  });

  it('finds no object where there is none', async () => {
    expect(await signed().head('builds/01JSIGNEDNONE/states/10/none.raw')).toBeNull();
  });

  it.each([
    [
      'a missing bucket',
      async () =>
        new SignedObjectStore({
          region: 'us-east-1',
          s3Endpoint: stack.s3.endpoint,
          artifactsBucket: 'no-such-bucket',
        }),
    ],
    [
      'an unreachable endpoint',
      async () =>
        new SignedObjectStore({
          region: 'us-east-1',
          s3Endpoint: `http://127.0.0.1:${await freePort()}`,
          artifactsBucket: BUCKET,
        }),
    ],
  ])('answers 503 unavailable for %s, whatever the call', async (_name, make) => {
    const store = await make();
    const unavailable = { code: 'unavailable', status: 503 };
    await expect(store.ping()).rejects.toMatchObject(unavailable);
    await expect(store.putPointer('builds/01JX/states/1/a', { name: 'a' })).rejects.toMatchObject(
      unavailable,
    );
    await expect(store.head('builds/01JX/states/1/a')).rejects.toMatchObject(unavailable);
    await expect(store.sha256('builds/01JX/states/1/a')).rejects.toMatchObject(unavailable);
  });
});

/**
 * The local S3 server's checksum front (local/s3-checksums.ts) and multipart assembly
 * (local/s3-assemble.ts) against s3rver itself: a part whose body does not match its CRC32 is
 * refused while it streams and nothing of it is kept, and a completed CRC32 multipart upload
 * reports the FULL_OBJECT CRC32 of the whole object, as S3 does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createS3Client } from '../../../lib/artifacts/s3-client';
import { type S3Local, startS3Local } from '../../../local/s3-local';

const MiB = 1024 * 1024;
const BUCKET = 'checksum-front';
let dir: string;
let s3local: S3Local;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 's3-front-test-'));
  s3local = await startS3Local({ directory: dir, bucket: BUCKET });
});
afterAll(async () => {
  await s3local.stop();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => createS3Client({ region: 'us-east-1', s3Endpoint: s3local.endpoint });
const b64 = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
};
const partFile = (uploadId: string, n: number) => join(dir, BUCKET, '._S3rver_uploads', uploadId, String(n));

/** A raw UploadPart (the SDK would compute the right checksum itself): status and body. */
function putPart(key: string, uploadId: string, n: number, body: Buffer, crc: string) {
  const now = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      `${s3local.endpoint}/${BUCKET}/${key}?partNumber=${n}&uploadId=${uploadId}`,
      {
        method: 'PUT',
        headers: {
          'content-length': String(body.length),
          'x-amz-checksum-crc32': crc,
          // s3rver checks the key and the time, not the signature.
          authorization: `AWS4-HMAC-SHA256 Credential=S3RVER/${now.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00`,
          'x-amz-date': now,
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function start(key: string) {
  const res = await client().send(
    new CreateMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      ChecksumAlgorithm: 'CRC32',
      ChecksumType: 'FULL_OBJECT',
    }),
  );
  return res.UploadId!;
}

/** UploadPart of each buffer as parts 1..n with its CRC32 (the SDK's own request); their ETags. */
async function sendParts(key: string, uploadId: string, parts: Buffer[]): Promise<string[]> {
  const etags: string[] = [];
  for (const [i, body] of parts.entries()) {
    const res = await client().send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumber: i + 1,
        Body: body,
        ChecksumCRC32: b64(crc32(body)),
      }),
    );
    etags.push(res.ETag!);
  }
  return etags;
}

describe('local S3 checksum front', () => {
  it('reports the FULL_OBJECT CRC32 of a completed multipart upload on Complete, HEAD and GET', async () => {
    const key = 'full/object.raw';
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(MiB + 3)];
    const whole = Buffer.concat(parts);
    const uploadId = await start(key);
    const etags = await sendParts(key, uploadId, parts);
    const complete = await client().send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        ChecksumCRC32: b64(crc32(whole)),
        ChecksumType: 'FULL_OBJECT',
        MultipartUpload: {
          Parts: parts.map((body, i) => ({
            PartNumber: i + 1,
            ETag: etags[i],
            ChecksumCRC32: b64(crc32(body)),
          })),
        },
      }),
    );
    expect(complete.ChecksumCRC32).toBe(b64(crc32(whole)));
    expect(complete.ChecksumType).toBe('FULL_OBJECT');
    // S3's multipart ETag: the MD5 of the parts' MD5s, then the part count.
    expect(complete.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);

    const head = await client().send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }),
    );
    expect(head.ChecksumCRC32).toBe(b64(crc32(whole)));
    expect(head.ChecksumType).toBe('FULL_OBJECT');
    expect(head.ContentLength).toBe(whole.length);
    expect(head.ETag).toBe(complete.ETag);
    // Without ChecksumMode S3 sends no checksum.
    const plain = await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(plain.ChecksumCRC32).toBeUndefined();

    const got = await client().send(
      new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }),
    );
    expect(got.ChecksumCRC32).toBe(b64(crc32(whole)));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(whole)).toBe(true);
  });

  it("reads a completed object back from the store's own file, whatever characters its key has", async () => {
    const key = 'odd keys/ä b+c (1)%.raw';
    const parts = [randomBytes(5 * MiB), randomBytes(MiB)];
    const whole = Buffer.concat(parts);
    const uploadId = await start(key);
    const etags = await sendParts(key, uploadId, parts);
    const before = { ...s3local.stats.readBacks };
    const complete = await client().send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        ChecksumCRC32: b64(crc32(whole)),
        ChecksumType: 'FULL_OBJECT',
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );
    expect(complete.ChecksumCRC32).toBe(b64(crc32(whole)));
    // Read from the file s3rver stores the key in, not through s3rver's (slower) GET.
    expect(s3local.stats.readBacks).toEqual({ file: before.file + 1, http: before.http });
    const got = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true);
  });

  it('assembles the same object and ETag when a part has no MD5 recorded beside it (hashed while copied)', async () => {
    const key = 'no/md5.raw';
    const parts = [randomBytes(5 * MiB), randomBytes(2 * MiB)];
    const uploadId = await start(key);
    const etags = await sendParts(key, uploadId, parts);
    rmSync(`${partFile(uploadId, 2)}.md5`);
    const whole = Buffer.concat(parts);
    const complete = await client().send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        ChecksumCRC32: b64(crc32(whole)),
        ChecksumType: 'FULL_OBJECT',
        MultipartUpload: { Parts: parts.map((_, i) => ({ PartNumber: i + 1, ETag: etags[i] })) },
      }),
    );
    const md5s = parts.map((p) => createHash('md5').update(p).digest());
    expect(complete.ETag).toBe(`"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-2"`);
    const got = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true);
  });

  it('refuses a part whose bytes do not match its CRC32 with 400 BadDigest and keeps nothing of it', async () => {
    const key = 'bad/part.raw';
    const uploadId = await start(key);
    const good = randomBytes(5 * MiB);
    const refusedBefore = s3local.stats.refused;
    const partsBefore = s3local.stats.parts;
    const bad = await putPart(key, uploadId, 1, good, b64(crc32(good) ^ 1));
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<Code>BadDigest</Code>');
    expect(s3local.stats.refused - refusedBefore).toBe(1);
    expect(s3local.stats.parts).toBe(partsBefore);
    expect(existsSync(partFile(uploadId, 1))).toBe(false);

    // Completing with the refused part is InvalidPart: nothing is assembled.
    await expect(
      client().send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          ChecksumCRC32: b64(crc32(good)),
          ChecksumType: 'FULL_OBJECT',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0123"', ChecksumCRC32: b64(crc32(good)) }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidPart', $metadata: { httpStatusCode: 400 } });
    await expect(client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });

    // The same part sent right is accepted.
    const ok = await putPart(key, uploadId, 1, good, b64(crc32(good)));
    expect(ok.status).toBe(200);
    expect(existsSync(partFile(uploadId, 1))).toBe(true);
  });

  it('refuses a completion whose FULL_OBJECT CRC32 differs with 400 BadDigest, and stores no object', async () => {
    const key = 'bad/whole.raw';
    const uploadId = await start(key);
    const body = randomBytes(5 * MiB);
    const part = await client().send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        Body: body,
        ChecksumCRC32: b64(crc32(body)),
      }),
    );
    const completion = (crc: string) =>
      client().send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          ChecksumCRC32: crc,
          ChecksumType: 'FULL_OBJECT',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: b64(crc32(body)) }] },
        }),
      );
    await expect(completion(b64(crc32(body) ^ 0x80))).rejects.toMatchObject({
      name: 'BadDigest',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    // The upload is still open, as on S3: the right CRC32 completes it.
    expect((await completion(b64(crc32(body)))).ChecksumCRC32).toBe(b64(crc32(body)));
  });

  it('answers 404 NoSuchUpload to a part or a completion for an upload completed already, as S3 does', async () => {
    const key = 'done/twice.raw';
    const body = randomBytes(5 * MiB);
    const uploadId = await start(key);
    const part = await client().send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        Body: body,
        ChecksumCRC32: b64(crc32(body)),
      }),
    );
    const completion = {
      Bucket: BUCKET,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    };
    await client().send(new CompleteMultipartUploadCommand(completion));
    // A late duplicate of a part (another client resuming the same upload): s3rver alone would
    // take it and recreate the upload's folder.
    const late = await putPart(key, uploadId, 1, body, b64(crc32(body)));
    expect(late.status).toBe(404);
    expect(late.body).toContain('<Code>NoSuchUpload</Code>');
    expect(existsSync(partFile(uploadId, 1))).toBe(false);
    await expect(client().send(new CompleteMultipartUploadCommand(completion))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
    const got = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('drops its request to s3rver when a reader goes away mid-object, so local S3 still stops', async () => {
    const own = await startS3Local({ bucket: 'reader-gone' });
    let stopped = false;
    try {
      const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: own.endpoint });
      await s3.send(
        new PutObjectCommand({ Bucket: 'reader-gone', Key: 'big.raw', Body: Buffer.alloc(64 * MiB, 7) }),
      );
      // Read a little of a GET, then vanish without reading the rest (a download killed mid-range).
      await new Promise<void>((resolve, reject) => {
        const now = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
        const req = request(`${own.endpoint}/reader-gone/big.raw`, {
          headers: {
            authorization: `AWS4-HMAC-SHA256 Credential=S3RVER/${now.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00`,
            'x-amz-date': now,
            'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
          },
        });
        req.on('response', (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
        req.end();
      });
      // Before the fix s3rver waited for the front's half-read connection for ever: stop() hung.
      await own.stop();
      stopped = true;
    } finally {
      if (!stopped) await own.stop();
    }
  }, 30_000);
});

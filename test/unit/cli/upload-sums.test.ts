/**
 * The multipart upload's one read pass (cli/upload.ts fileSums): zlib's native CRC32 restarted per
 * part, and the whole file's combined from the parts' (cli/crc32.ts), must give the values the AWS SDK (whose CRC32 S3 checks)
 * computes for the same bytes, in the same base64 of the big-endian 4 bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Crc32Js } from '@aws-sdk/checksums/crc';
import { crc32Base64, fileSums } from '../../../cli/upload';

const sdkCrc32 = async (data: Buffer) => {
  const c = new Crc32Js();
  c.update(data);
  return Buffer.from(await c.digest()).toString('base64');
};

const dir = mkdtempSync(join(tmpdir(), 'bldst-sums-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileSums', () => {
  // Part sizes that do and do not divide the 1 MiB read chunks, and a last part shorter than the rest.
  it.each([
    [3 * 1024 * 1024 + 17, 1024 * 1024],
    [3 * 1024 * 1024 + 17, 700_001],
    [2 * 1024 * 1024, 1024 * 1024],
    [1000, 4096],
  ])(
    'a %i-byte file in parts of %i: whole and per-part CRC32 as the SDK computes them',
    async (size, partSize) => {
      const data = randomBytes(size);
      const path = join(dir, `f-${size}-${partSize}`);
      writeFileSync(path, data);
      const partCount = Math.ceil(size / partSize);
      const sums = await fileSums(path, { partSize, partCount }, size);
      expect(sums.size).toBe(size);
      expect(sums.checksum).toBe(`sha256:${createHash('sha256').update(data).digest('hex')}`);
      expect(sums.crc32).toBe(await sdkCrc32(data));
      expect(sums.parts).toHaveLength(partCount);
      for (let n = 0; n < partCount; n++)
        expect(sums.parts[n]).toBe(await sdkCrc32(data.subarray(n * partSize, (n + 1) * partSize)));
    },
  );

  it('encodes a CRC32 as S3 headers carry it: 4 bytes big-endian in base64', () => {
    expect(crc32Base64(0)).toBe('AAAAAA==');
    expect(crc32Base64(0xffffffff)).toBe('/////w==');
    expect(crc32Base64(0x12345678)).toBe(Buffer.from([0x12, 0x34, 0x56, 0x78]).toString('base64'));
    // The standard check value: CRC32("123456789") = 0xCBF43926.
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Base64(crc32(Buffer.from('123456789')))).toBe('y/Q5Jg==');
  });
});

/**
 * lib/artifacts/crc32.ts against zlib: the CRC32 combined from two pieces' CRC32s is the CRC32
 * zlib computes over the whole, wherever the cut falls (both empty ends included).
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32Combine } from '../../../../lib/artifacts/crc32';

const MiB = 1024 * 1024;

describe('crc32Combine', () => {
  it('gives the CRC32 of the whole at the edges and at a part boundary', () => {
    const data = randomBytes(3 * MiB + 17);
    for (const cut of [0, 1, 5, MiB, 3 * MiB + 16, 3 * MiB + 17]) {
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(data));
    }
  });

  it('gives the CRC32 of the whole for any bytes cut anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.nat(), (bytes, at) => {
        const data = Buffer.from(bytes);
        const cut = data.length === 0 ? 0 : at % (data.length + 1);
        const b = data.subarray(cut);
        expect(crc32Combine(crc32(data.subarray(0, cut)), crc32(b), b.length)).toBe(crc32(data));
      }),
    );
  });

  it('folds many parts in order, as an upload combines its part CRC32s', () => {
    const parts = Array.from({ length: 7 }, (_, i) => randomBytes(1 + i * 997));
    let whole = 0;
    for (const p of parts) whole = crc32Combine(whole, crc32(p), p.length);
    expect(whole).toBe(crc32(Buffer.concat(parts)));
  });
});

import { randomBytes } from 'node:crypto';
import { Crc64Nvme } from '@aws-sdk/checksums/crc';
import fc from 'fast-check';
import { combineBase64 } from '../../../../lib/artifacts/crc64nvme-combine';

const crcOf = async (data: Uint8Array) => {
  const c = new Crc64Nvme();
  c.update(data);
  return Buffer.from(await c.digest()).toString('base64');
};

describe('combineBase64 (CRC64NVME of a concatenation from its pieces)', () => {
  it('equals the SDK CRC of the whole for any split of any bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.nat(), async (bytes, at) => {
        const cut = bytes.length ? at % (bytes.length + 1) : 0;
        const a = bytes.subarray(0, cut);
        const b = bytes.subarray(cut);
        expect(combineBase64(await crcOf(a), await crcOf(b), b.length)).toBe(await crcOf(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('folds many equal parts and a short last one into the whole file CRC', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 12_345);
    const part = 512 * 1024;
    let whole: string | null = null;
    for (let at = 0; at < data.length; at += part) {
      const piece = data.subarray(at, at + part);
      const crc = await crcOf(piece);
      whole = whole === null ? crc : combineBase64(whole, crc, piece.length);
    }
    expect(whole).toBe(await crcOf(data));
  });
});

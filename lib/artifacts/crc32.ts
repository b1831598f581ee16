/**
 * CRC32 arithmetic shared by the CLI's upload (cli/upload.ts) and the local S3 front
 * (local/s3-checksums.ts): the CRC32 of a concatenation from the CRC32s of its pieces, so the
 * whole file's CRC32 needs no pass of its own. zlib's crc32_combine (polynomial arithmetic mod P,
 * reflected), which Node does not expose.
 */
const POLY = 0xedb88320;
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}
const X2N: number[] = [];
{
  let p = 1 << 30; // x^1
  X2N.push(p);
  for (let n = 1; n < 32; n++) {
    p = multModP(p, p);
    X2N.push(p);
  }
}
/** x^(n·2^k) mod P */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p >>> 0;
}
/** CRC32 of A‖B from crc(A), crc(B) and B's length in bytes (any size, beyond 4 GiB too). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA >>> 0) ^ crcB) >>> 0;
}

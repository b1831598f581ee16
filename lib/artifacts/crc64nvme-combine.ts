/**
 * CRC64NVME of a concatenation from the CRCs of its pieces (zlib's crc32_combine, in 64 bits),
 * so one read pass can compute each part's CRC64NVME and derive the whole file's from them rather
 * than running a second CRC over every byte. The CRC itself comes from the AWS SDK
 * (@aws-sdk/checksums); only this combination is done here. CRC-64/NVME is reflected, with
 * all-ones init and xorout, like CRC-32: the same algebra holds with its reflected polynomial.
 */
const POLY_REFLECTED = 0x9a6c9329ac4bc9b5n;
const WIDTH = 64;

type Matrix = bigint[];

function times(mat: Matrix, vec: bigint): bigint {
  let sum = 0n;
  for (let i = 0; vec; i++, vec >>= 1n) if (vec & 1n) sum ^= mat[i]!;
  return sum;
}

function square(mat: Matrix): Matrix {
  return mat.map((row) => times(mat, row));
}

/** The operators that append 2^k zero bytes, k = 0, 1, 2, … (built once, shared). */
const zeroBytePowers: Matrix[] = [];
function powerOf(k: number): Matrix {
  if (zeroBytePowers.length === 0) {
    // One zero bit, then squared three times: one zero byte.
    let op: Matrix = [POLY_REFLECTED];
    for (let n = 1, row = 1n; n < WIDTH; n++, row <<= 1n) op.push(row);
    for (let i = 0; i < 3; i++) op = square(op);
    zeroBytePowers.push(op);
  }
  while (zeroBytePowers.length <= k) zeroBytePowers.push(square(zeroBytePowers.at(-1)!));
  return zeroBytePowers[k]!;
}

/** CRC64NVME (as an unsigned 64-bit value) of A‖B from crc(A), crc(B) and B's length in bytes. */
export function crc64nvmeCombine(crcA: bigint, crcB: bigint, lengthB: number): bigint {
  let crc = crcA;
  for (let k = 0, len = lengthB; len > 0; k++, len = Math.floor(len / 2))
    if (len % 2 === 1) crc = times(powerOf(k), crc);
  return crc ^ crcB;
}

/** The same on the base64 big-endian form S3 headers carry. */
export function combineBase64(crcA: string, crcB: string, lengthB: number): string {
  const value = crc64nvmeCombine(fromBase64(crcA), fromBase64(crcB), lengthB);
  return Buffer.from(value.toString(16).padStart(16, '0'), 'hex').toString('base64');
}

const fromBase64 = (b64: string) => BigInt(`0x${Buffer.from(b64, 'base64').toString('hex') || '0'}`);

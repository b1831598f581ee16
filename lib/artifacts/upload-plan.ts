/**
 * How a file is cut into multipart-upload parts: S3's limits (parts of 5 MiB to 5 GiB, the last one
 * smaller; at most 10,000 parts; objects up to 5 TiB) and the part size a user asked for, grown in
 * whole MiB until the file fits in 10,000 parts. The CLI and the service both use it, so the part
 * sizes a presigned URL binds are the ones the client sends.
 */
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * GiB;
export const MAX_PARTS = 10_000;
export const MAX_OBJECT_SIZE = 5 * 1024 * GiB;
export const DEFAULT_PART_SIZE = 64 * MiB;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

/**
 * The part size actually used for a file of `size` bytes when `requested` was asked for: the
 * requested one, or the smallest whole number of MiB above it that keeps the count ≤ 10,000.
 */
export function planParts(size: number, requested: number = DEFAULT_PART_SIZE): PartPlan {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size ${size}`);
  if (size > MAX_OBJECT_SIZE) throw new RangeError(`${size} bytes is above S3's 5 TiB object limit`);
  if (requested < MIN_PART_SIZE || requested > MAX_PART_SIZE)
    throw new RangeError(`part size ${requested} is outside 5 MiB..5 GiB`);
  let partSize = requested;
  if (Math.ceil(size / partSize) > MAX_PARTS) partSize = Math.ceil(size / MAX_PARTS / MiB) * MiB;
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Byte range [start, end) of part `n` (1-based) of a plan. */
export function partRange(size: number, plan: PartPlan, n: number): { start: number; end: number } {
  const start = (n - 1) * plan.partSize;
  return { start, end: Math.min(size, start + plan.partSize) };
}

/** "64MiB", "8MiB", "5GiB", "1.5GiB", "10MB" or a plain number of bytes; null if unreadable. */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB|K|M|G|T)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 'B').toLowerCase();
  const factor: Record<string, number> = {
    b: 1,
    kib: 1024,
    mib: MiB,
    gib: GiB,
    tib: 1024 * GiB,
    k: 1024,
    m: MiB,
    g: GiB,
    t: 1024 * GiB,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    tb: 1e12,
  };
  const bytes = Number(m[1]) * factor[unit]!;
  return Number.isSafeInteger(Math.round(bytes)) ? Math.round(bytes) : null;
}

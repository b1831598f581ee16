import {
  GiB,
  MAX_PART_SIZE,
  MAX_PARTS,
  MiB,
  parseByteSize,
  partRange,
  planParts,
} from '../../../../lib/artifacts/upload-plan';

describe('planParts', () => {
  it('keeps the requested part size while the file fits in 10,000 parts', () => {
    expect(planParts(1 * GiB, 64 * MiB)).toEqual({ partSize: 64 * MiB, partCount: 16 });
    expect(planParts(22 * MiB + 1, 5 * MiB)).toEqual({ partSize: 5 * MiB, partCount: 5 });
  });

  it('grows the part size in whole MiB to stay within 10,000 parts', () => {
    const size = 100 * GiB;
    const plan = planParts(size, 5 * MiB);
    expect(plan.partSize % MiB).toBe(0);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize).toBe(Math.ceil(size / MAX_PARTS / MiB) * MiB);
    // One MiB less would need more than 10,000 parts.
    expect(Math.ceil(size / (plan.partSize - MiB))).toBeGreaterThan(MAX_PARTS);
  });

  it('plans a 50 GiB file: every part at most 5 GiB, the parts cover it exactly', () => {
    const size = 50 * GiB;
    const plan = planParts(size);
    expect(plan).toEqual({ partSize: 64 * MiB, partCount: 800 });
    const last = partRange(size, plan, plan.partCount);
    expect(last.end).toBe(size);
    expect(last.end - last.start).toBeLessThanOrEqual(MAX_PART_SIZE);
  });

  it('plans a 6 GiB file in more than one part, none above 5 GiB (S3 refuses a larger PUT)', () => {
    const size = 6 * GiB;
    for (const requested of [5 * MiB, 64 * MiB, 5 * GiB]) {
      const plan = planParts(size, requested);
      expect(plan.partCount).toBeGreaterThan(1);
      let covered = 0;
      for (let n = 1; n <= plan.partCount; n++) {
        const r = partRange(size, plan, n);
        expect(r.start).toBe(covered);
        expect(r.end - r.start).toBeLessThanOrEqual(MAX_PART_SIZE);
        covered = r.end;
      }
      expect(covered).toBe(size);
    }
    expect(planParts(size, 5 * GiB)).toEqual({ partSize: 5 * GiB, partCount: 2 });
  });

  it('plans the largest object S3 holds (5 TiB) within 10,000 parts of at most 5 GiB', () => {
    const plan = planParts(5 * 1024 * GiB, 5 * MiB);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize).toBeLessThanOrEqual(MAX_PART_SIZE);
  });

  it.each([[4 * MiB], [5 * GiB + 1]])('refuses a part size of %d bytes', (partSize) => {
    expect(() => planParts(GiB, partSize)).toThrow(/outside 5 MiB..5 GiB/);
  });

  it('refuses a file above 5 TiB', () => {
    expect(() => planParts(5 * 1024 * GiB + 1)).toThrow(/5 TiB/);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['8MiB', 8 * MiB],
    ['64MiB', 64 * MiB],
    ['1.5GiB', 1.5 * GiB],
    ['5gib', 5 * GiB],
    ['10MB', 10_000_000],
    ['5242880', 5 * MiB],
    ['16M', 16 * MiB],
  ])('reads %s', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each([['lots'], ['-5MiB'], ['5 XiB'], ['']])('refuses %j', (text) => {
    expect(parseByteSize(text)).toBeNull();
  });
});

import { createProgress, formatBytes, progressReporter, wantProgress } from '../../../cli/progress';

/** A stand-in for process.stderr that keeps what was written. */
function stream(tty: boolean, columns = 80) {
  const writes: string[] = [];
  return {
    writes,
    s: { isTTY: tty, columns, write: (t: string) => writes.push(t) } as unknown as NodeJS.WriteStream,
  };
}

const MiB = 1024 * 1024;

describe('progress', () => {
  it('formats bytes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(64 * MiB)).toBe('64.0 MiB');
    expect(formatBytes(6 * 1024 * MiB)).toBe('6.00 GiB');
  });

  it('is shown on a terminal, on a pipe only when asked, never with -q', () => {
    const tty = stream(true).s;
    const pipe = stream(false).s;
    expect(wantProgress({ quiet: false }, tty)).toBe(true);
    expect(wantProgress({ quiet: false }, pipe)).toBe(false);
    expect(wantProgress({ quiet: false, progress: true }, pipe)).toBe(true);
    expect(wantProgress({ quiet: true, progress: true }, tty)).toBe(false);
  });

  it('redraws one line in place on a terminal: bytes, percentage, rate and ETA, at most ten times a second', () => {
    let t = 0;
    const out = stream(true);
    const p = createProgress({ label: 'image.qcow2', total: 100 * MiB, stream: out.s, now: () => t });
    t = 1000;
    p.update(25 * MiB);
    t = 1050;
    p.update(26 * MiB); // within 100 ms of the last draw: not drawn
    t = 2000;
    p.update(50 * MiB);
    p.done();
    expect(out.writes).toEqual([
      '\rimage.qcow2  25.0 MiB / 100 MiB  25%  25.0 MiB/s  ETA 3s\x1b[K',
      '\rimage.qcow2  50.0 MiB / 100 MiB  50%  25.0 MiB/s  ETA 2s\x1b[K',
      '\rimage.qcow2  50.0 MiB / 100 MiB  50%  25.0 MiB/s  ETA 2s\x1b[K',
      '\n',
    ]);
  });

  it('shows control characters of a name escaped, and cuts the name before the figures', () => {
    const out = stream(true);
    const p = createProgress({ label: 'evil\x1b]0;owned\x07.raw', total: 10, stream: out.s, now: () => 0 });
    p.update(5);
    expect(out.writes[0]).toBe('\revil\\e]0;owned\\a.raw  5 B / 10 B  50%  4.88 KiB/s  ETA 0s\x1b[K');
    const narrow = stream(true, 48);
    const q = createProgress({
      label: 'rhel9-sap-hana-base-image.qcow2',
      total: 10,
      stream: narrow.s,
      now: () => 0,
    });
    q.update(5);
    expect(narrow.writes[0]).toBe('\rrhel9-sap…  5 B / 10 B  50%  4.88 KiB/s  ETA 0s\x1b[K');
  });

  it('writes plain lines to a pipe, and nothing when not enabled', () => {
    const pipe = stream(false);
    const p = createProgress({ label: 'a', total: 10, stream: pipe.s, enabled: true, now: () => 0 });
    p.update(10);
    p.done();
    expect(pipe.writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    const off = stream(true);
    createProgress({ label: 'a', total: 10, stream: off.s, enabled: false }).update(5);
    expect(off.writes).toEqual([]);
  });

  it('counts bytes an earlier run stored in the percentage, not in the rate or the ETA', () => {
    let t = 0;
    const out = stream(true);
    const p = createProgress({
      label: 'd.bin',
      total: 100 * MiB,
      base: 60 * MiB,
      stream: out.s,
      now: () => t,
    });
    p.update(60 * MiB); // the first frame of a resumed upload: nothing sent yet in this run
    t = 2000;
    p.update(80 * MiB);
    expect(out.writes).toEqual([
      '\rd.bin  60.0 MiB / 100 MiB  60%  0 B/s  ETA -\x1b[K',
      '\rd.bin  80.0 MiB / 100 MiB  80%  10.0 MiB/s  ETA 2s\x1b[K',
    ]);
  });

  it('shows the read pass as "reading F to checksum it … N%", and erases the line for a note', () => {
    let t = 0;
    const out = stream(true);
    const p = createProgress({
      label: 'd.bin',
      total: 100 * MiB,
      kind: 'reading',
      stream: out.s,
      now: () => t,
    });
    p.update(42 * MiB);
    p.clear();
    t = 50; // a redraw right after a clear is not held back
    p.update(43 * MiB);
    expect(out.writes).toEqual([
      '\rreading d.bin to checksum it … 42%\x1b[K',
      '\r\x1b[K',
      '\rreading d.bin to checksum it … 43%\x1b[K',
    ]);
  });

  it('replaces the reading line with the transfer line, whose rate starts from what was stored before', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const isTTY = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    try {
      const r = progressReporter('d.bin');
      r.onReading(10 * MiB, 20 * MiB);
      r.note('resuming upload u1: 2 of 4 parts already stored');
      r.onProgress(10 * MiB, 20 * MiB, 10 * MiB);
      r.done();
      const text = write.mock.calls.map((c) => String(c[0]));
      expect(text[0]).toMatch(/^\rreading d\.bin to checksum it … 50%/);
      expect(text.slice(1, 3)).toEqual(['\r\x1b[K', 'resuming upload u1: 2 of 4 parts already stored\n']);
      expect(text[3]).toMatch(/^\rd\.bin {2}10\.0 MiB \/ 20\.0 MiB {2}50% {2}0 B\/s {2}ETA -/);
      expect(text.at(-1)).toBe('\n');
    } finally {
      write.mockRestore();
      if (isTTY) Object.defineProperty(process.stderr, 'isTTY', isTTY);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });
});

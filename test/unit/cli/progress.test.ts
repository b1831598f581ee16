import { createProgress, formatBytes, wantProgress } from '../../../cli/progress';

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
});

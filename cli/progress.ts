/**
 * Transfer progress on stderr: one line redrawn in place on a terminal (bytes, percentage, rate,
 * ETA), a line every few seconds on a pipe when asked with --progress, nothing with -q.
 * Uploads report through the same API: `createProgress(...).update(doneBytes)`; a resumed
 * transfer's earlier bytes (`base`) count in the percentage, not in the rate; an upload's read
 * pass (hashing the file first) shows as "reading F to checksum it … 42%".
 */
import { cut, displayWidth, duration, sanitize } from './output';

export interface Progress {
  /** Bytes done so far (monotonic is not required: a retried range may go back). */
  update(doneBytes: number): void;
  /** The last figures, then the line is finished (a newline on a terminal). */
  done(): void;
  /** Erases the line drawn in place (a terminal), so a note can be written; the next update redraws. */
  clear(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
  /** Defaults to "the stream is a terminal". */
  enabled?: boolean;
  /** For tests: the clock. */
  now?: () => number;
  /**
   * Bytes already done before this run (parts a resumed upload finds stored): counted in the
   * bytes and the percentage, not in the rate or the ETA.
   */
  base?: number;
  /** `reading`: the read pass that hashes a file before it is sent ("reading F to checksum it … 42%"). */
  kind?: 'transfer' | 'reading';
}

/** Whether to show progress: never with -q; on a terminal by default; on a pipe only with --progress. */
export const wantProgress = (
  o: { quiet: boolean; progress?: boolean },
  stream: NodeJS.WriteStream = process.stderr,
): boolean => !o.quiet && (o.progress === true || stream.isTTY === true);

const NONE: Progress = { update() {}, done() {}, clear() {} };

/**
 * For a transfer whose size is known only once it starts (an upload's first report): the
 * callbacks the transfer calls, and `done()` to finish the line afterwards. `onReading` reports
 * the read pass that hashes the file before anything is sent; the transfer's line replaces it.
 * `onProgress`'s `base` is what an earlier run already stored (not counted in the rate).
 */
export function progressReporter(label: string, enabled?: boolean) {
  const on = enabled === undefined ? {} : { enabled };
  let line: Progress | undefined;
  let reading: Progress | undefined;
  return {
    onReading(readBytes: number, totalBytes: number) {
      if (line) return;
      reading ??= createProgress({ label, total: totalBytes, kind: 'reading', ...on });
      reading.update(readBytes);
    },
    onProgress(doneBytes: number, totalBytes: number, base = 0) {
      // The reading line is drawn over in place (a terminal); a log gets its last figure (100%)
      // first, so it never ends on the 5-second line that happened to come before.
      if (reading && process.stderr.isTTY !== true) reading.done();
      reading = undefined;
      line ??= createProgress({ label, total: totalBytes, base, ...on });
      line.update(doneBytes);
    },
    done() {
      (line ?? reading)?.done();
    },
    /** Erases the line drawn in place, so that a note can be written on its own line. */
    clear() {
      (line ?? reading)?.clear();
    },
    /** A line for stderr ("resuming upload …"), not written into the middle of a redrawn line. */
    note(text: string) {
      (line ?? reading)?.clear();
      process.stderr.write(`${sanitize(text)}\n`);
    },
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[i]}`;
}

export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  if (!(o.enabled ?? stream.isTTY === true)) return NONE;
  const now = o.now ?? Date.now;
  const tty = stream.isTTY === true;
  const reading = o.kind === 'reading';
  const label = reading ? `reading ${sanitize(o.label)} to checksum it` : sanitize(o.label);
  const base = o.base ?? 0;
  const sep = reading ? ' ' : '  ';
  const started = now();
  // A terminal redraws ten times a second at most; a log gets a line every 5 s.
  const every = tty ? 100 : 5000;
  let last = -Infinity;
  let doneBytes = base;
  let finished = false;
  let drawn = false;

  const figures = (): string => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = Math.max(doneBytes - base, 0) / seconds;
    const pct = o.total > 0 ? Math.floor((doneBytes / o.total) * 100) : 100;
    if (reading) return `… ${pct}%`;
    const eta = rate > 0 && o.total > doneBytes ? duration((o.total - doneBytes) / rate) : '-';
    return `${formatBytes(doneBytes)} / ${formatBytes(o.total)}  ${pct}%  ${formatBytes(Math.round(rate))}/s  ETA ${eta}`;
  };
  const draw = () => {
    const numbers = figures();
    if (!tty) {
      stream.write(`${label}${sep}${numbers}\n`);
      return;
    }
    // One column short of the width, so the cursor never wraps. The name gives way first; the
    // figures are cut only when nothing else is left. A pseudo-terminal without a size reports
    // 0 columns: then $COLUMNS, else 80.
    const width = (stream.columns || Number(process.env.COLUMNS) || 80) - 1;
    const room = width - displayWidth(numbers) - sep.length;
    const text = room >= 8 ? `${cut(label, room)}${sep}${numbers}` : cut(numbers, Math.max(width, 10));
    stream.write(`\r${text}\x1b[K`);
    drawn = true;
  };
  return {
    update(bytes) {
      if (finished) return;
      doneBytes = bytes;
      const t = now();
      if (t - last < every) return;
      last = t;
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      draw();
      if (tty) stream.write('\n');
    },
    clear() {
      if (!tty || !drawn || finished) return;
      stream.write('\r\x1b[K');
      drawn = false;
      last = -Infinity;
    },
  };
}

/**
 * Transfer progress on stderr: one line redrawn in place on a terminal (bytes, percentage, rate,
 * ETA), a line every few seconds on a pipe when asked with --progress, nothing with -q.
 * Uploads report through the same API: `createProgress(...).update(doneBytes)`.
 */
import { cut, displayWidth, duration, sanitize } from './output';

export interface Progress {
  /** Bytes done so far (monotonic is not required: a retried range may go back). */
  update(doneBytes: number): void;
  /** The last figures, then the line is finished (a newline on a terminal). */
  done(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
  /** Defaults to "the stream is a terminal". */
  enabled?: boolean;
  /** For tests: the clock. */
  now?: () => number;
}

/** Whether to show progress: never with -q; on a terminal by default; on a pipe only with --progress. */
export const wantProgress = (
  o: { quiet: boolean; progress?: boolean },
  stream: NodeJS.WriteStream = process.stderr,
): boolean => !o.quiet && (o.progress === true || stream.isTTY === true);

const NONE: Progress = { update() {}, done() {} };

/**
 * For a transfer whose size is known only once it starts (an upload's first report): the
 * callback the transfer calls, and `done()` to finish the line afterwards.
 */
export function progressReporter(label: string, enabled?: boolean) {
  let line: Progress | undefined;
  return {
    onProgress(doneBytes: number, totalBytes: number) {
      line ??= createProgress({ label, total: totalBytes, ...(enabled === undefined ? {} : { enabled }) });
      line.update(doneBytes);
    },
    done() {
      line?.done();
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
  const label = sanitize(o.label);
  const started = now();
  // A terminal redraws ten times a second at most; a log gets a line every 5 s.
  const every = tty ? 100 : 5000;
  let last = -Infinity;
  let doneBytes = 0;
  let finished = false;

  const figures = (): string => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = doneBytes / seconds;
    const pct = o.total > 0 ? Math.floor((doneBytes / o.total) * 100) : 100;
    const eta = rate > 0 && o.total > doneBytes ? duration((o.total - doneBytes) / rate) : '-';
    return `${formatBytes(doneBytes)} / ${formatBytes(o.total)}  ${pct}%  ${formatBytes(Math.round(rate))}/s  ETA ${eta}`;
  };
  const draw = () => {
    const numbers = figures();
    if (!tty) {
      stream.write(`${label}  ${numbers}\n`);
      return;
    }
    // One column short of the width, so the cursor never wraps. The name gives way first; the
    // figures are cut only when nothing else is left. A pseudo-terminal without a size reports
    // 0 columns: then $COLUMNS, else 80.
    const width = (stream.columns || Number(process.env.COLUMNS) || 80) - 1;
    const room = width - displayWidth(numbers) - 2;
    const text = room >= 8 ? `${cut(label, room)}  ${numbers}` : cut(numbers, Math.max(width, 10));
    stream.write(`\r${text}\x1b[K`);
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
  };
}

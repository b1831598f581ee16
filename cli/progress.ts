/**
 * Transfer progress on stderr: one line redrawn in place on a terminal (bytes, percentage, rate,
 * ETA), a line every few seconds on a pipe when asked with --progress, nothing with -q.
 * Uploads report through the same API: `createProgress(...).update(doneBytes)`.
 */
import { cut, duration, sanitize } from './output';

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
export const wantProgress = (o: { quiet: boolean; progress?: boolean }, stream = process.stderr): boolean =>
  !o.quiet && (o.progress === true || stream.isTTY === true);

const NONE: Progress = { update() {}, done() {} };

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

  const line = (): string => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = doneBytes / seconds;
    const pct = o.total > 0 ? Math.floor((doneBytes / o.total) * 100) : 100;
    const eta = rate > 0 && o.total > doneBytes ? duration((o.total - doneBytes) / rate) : '-';
    const figures = `${formatBytes(doneBytes)} / ${formatBytes(o.total)}  ${pct}%  ${formatBytes(Math.round(rate))}/s  ETA ${eta}`;
    return `${label}  ${figures}`;
  };
  const draw = () => {
    const text = line();
    // A pseudo-terminal without a size reports 0 columns: then $COLUMNS, else 80.
    const width = stream.columns || Number(process.env.COLUMNS) || 80;
    if (tty) stream.write(`\r${cut(text, Math.max(width - 1, 10))}\x1b[K`);
    else stream.write(`${text}\n`);
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

/**
 * Output: JSON when piped or asked for; on a terminal, tables that fit its width, with statuses in
 * colour. Colour follows the usual conventions: only on a terminal, never with NO_COLOR, always
 * with FORCE_COLOR (FORCE_COLOR=0 turns it off), which wins over NO_COLOR as in Node itself.
 */
export type OutputMode = 'table' | 'json';

export const defaultOutput = (): OutputMode => (process.stdout.isTTY ? 'table' : 'json');

export interface Style {
  color: boolean;
  /** Columns available for a table line; Infinity when nothing limits it (a pipe). */
  width: number;
}

export function detectStyle(
  stream: { isTTY?: boolean; columns?: number } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Style {
  const tty = Boolean(stream.isTTY);
  let color = tty && !env.NO_COLOR && env.TERM !== 'dumb';
  if (env.FORCE_COLOR !== undefined) color = !['0', 'false'].includes(env.FORCE_COLOR);
  const columns = Number(env.COLUMNS);
  const width = tty ? stream.columns || columns || 80 : columns > 0 ? columns : Number.POSITIVE_INFINITY;
  return { color, width };
}

const SGR = {
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
  dim: '2',
  bold: '1',
  boldRed: '1;31',
  boldMagenta: '1;35',
} as const;
export type Paint = keyof typeof SGR;

export const paint = (style: Style, name: Paint | undefined, text: string) =>
  style.color && name && text ? `\x1b[${SGR[name]}m${text}\x1b[0m` : text;

const STATUS_PAINT: Record<string, Paint> = {
  failed: 'red',
  blocked: 'boldMagenta',
  completed: 'green',
  in_progress: 'cyan',
  pending: 'yellow',
  cancelled: 'dim',
};
export const statusPaint = (status: string | null | undefined): Paint | undefined =>
  status ? STATUS_PAINT[status] : undefined;
export const paintStatus = (style: Style, status: string | null | undefined, text = status ?? '-') =>
  paint(style, statusPaint(status), text);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string) => [...s.replace(ANSI, '')].length;

/** `text` cut to `width` visible characters, ending in … when cut. */
export function cut(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : `${chars.slice(0, width - 1).join('')}…`;
}

export const cellText = (v: unknown) =>
  (v === null || v === undefined || v === ''
    ? '-'
    : typeof v === 'object'
      ? JSON.stringify(v)
      : String(v)
  ).replace(/\r?\n/g, ' ⏎ ');

export interface Column<R> {
  header: string;
  value(row: R): unknown;
  /** Colour of a cell, from its row. */
  paint?(row: R): Paint | undefined;
  /** Cells (and the header) are never cut below this width (default 5). */
  min?: number;
  /** When even the minimum widths do not fit, columns with a `drop` go, highest first. */
  drop?: number;
  /** Right-aligned (numbers). */
  right?: boolean;
}

/** A column from a field of the row, with a human header. */
export const col = <R extends Record<string, unknown>>(
  key: keyof R & string,
  header = key.replace(/_id$/, '').replace(/_/g, ' ').toUpperCase(),
  extra: Partial<Column<R>> = {},
): Column<R> => ({ header, value: (r) => r[key], ...extra });

/**
 * Rows under human headers. Wider than the terminal: the widest columns give way first, their
 * cells cut with …, down to each column's minimum (then the line wraps); `wide` shows everything.
 */
export function printTable<R>(
  rows: R[],
  columns: Column<R>[],
  style: Style,
  opts: { wide?: boolean; empty?: string } = {},
): void {
  process.stdout.write(formatTable(rows, columns, style, opts));
}

export function formatTable<R>(
  rows: R[],
  columns: Column<R>[],
  style: Style,
  opts: { wide?: boolean; empty?: string } = {},
): string {
  if (rows.length === 0) return `${paint(style, 'dim', opts.empty ?? 'nothing to show')}\n`;
  const limit = opts.wide ? Number.POSITIVE_INFINITY : style.width;
  const gap = 2;
  const minOf = (c: Column<R>) => c.min ?? 5;
  // Too narrow for every column even cut to its minimum: leave out the least needed ones.
  const kept = [...columns];
  const fits = () => kept.reduce((n, c) => n + minOf(c), 0) + gap * (kept.length - 1) <= limit;
  while (!fits()) {
    const droppable = kept.filter((c) => c.drop !== undefined).sort((a, b) => b.drop! - a.drop!);
    if (!droppable.length) break;
    kept.splice(kept.indexOf(droppable[0]!), 1);
  }
  columns = kept;
  const texts = rows.map((r) => columns.map((c) => cellText(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...texts.map((t) => [...t[i]!].length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  const mins = columns.map((c, i) => Math.min(widths[i]!, minOf(c)));
  while (total() > limit) {
    // Shrink the column with the most room above its minimum, one character at a time.
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if (widths[i]! > mins[i]! && (widest < 0 || widths[i]! - mins[i]! > widths[widest]! - mins[widest]!))
        widest = i;
    if (widest < 0) break;
    widths[widest]!--;
  }
  const line = (cells: string[], painter?: (i: number, s: string) => string) =>
    cells
      .map((cell, i) => {
        const shown = cut(cell, widths[i]!);
        const pad = ' '.repeat(Math.max(0, widths[i]! - [...shown].length));
        const text = painter ? painter(i, shown) : shown;
        return columns[i]!.right ? pad + text : text + pad;
      })
      .join(' '.repeat(gap))
      .trimEnd();
  const header = line(
    columns.map((c) => c.header),
    (_i, s) => paint(style, 'bold', s),
  );
  const body = rows.map((r, n) => line(texts[n]!, (i, s) => paint(style, columns[i]!.paint?.(r), s)));
  return `${[header, ...body].join('\n')}\n`;
}

/** Rows of plain fields, each column named by its field (for lists whose shape is the API's). */
export function fieldColumns<R extends Record<string, unknown>>(keys: (keyof R & string)[]): Column<R>[] {
  return keys.map((k) => col<R>(k));
}

/** One object as "key  value" lines; a `status` is shown in its colour. */
export function printRecord(record: Record<string, unknown>, style?: Style): void {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  for (const [k, v] of Object.entries(record)) {
    const value = v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    const shown =
      style && (k === 'status' || k === 'state_status') ? paintStatus(style, String(v), value) : value;
    process.stdout.write(`${k.padEnd(width)}  ${shown}\n`);
  }
}

export function progressBar(percent: number, width = 20): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}%`;
}

/** "42s", "5m", "3h", "2d": how long ago (or how long), for tables. */
export function age(from: string | null | undefined, now = Date.now()): string {
  if (!from) return '-';
  return duration((now - Date.parse(from)) / 1000);
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

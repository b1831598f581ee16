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

/**
 * What others typed (descriptions, errors, metadata, ids, worker names) reaches a terminal only
 * through here: every control character is shown as an escape (`\e`, `\a`, `\x9b`, `\u202e`),
 * never emitted. That covers C0 (ESC starts every terminal sequence, so `ESC ] 0 ; title BEL`
 * arrives as the harmless text `\e]0;title\a`), DEL, C1 (0x9b is a one-byte CSI on some
 * terminals), bidi embeddings, overrides and isolates (which reorder what is shown) and the
 * Unicode line and paragraph separators. `keepNewlines` keeps \n and \t (for our own messages).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = {
  '\x1b': '\\e',
  '\x07': '\\a',
  '\b': '\\b',
  '\r': '\\r',
  '\t': '\\t',
  '\n': '\\n',
};

export function sanitize(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(UNSAFE, (c) => {
    if (opts.keepNewlines && (c === '\n' || c === '\t')) return c;
    const named = NAMED[c];
    if (named) return named;
    const code = c.codePointAt(0)!;
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: our own colour codes are not shown text
const SGR_CODES = /\x1b\[[0-9;]*m/g;

/**
 * Terminal cells taken by one grapheme: 2 for East Asian Wide/Fullwidth characters and emoji shown
 * as pictures, 0 for marks that join the one before, else 1. The ranges are Unicode 15's
 * EastAsianWidth W and F blocks, merged where adjacent (what wcwidth-style tables hold).
 */
const WIDE: [number, number][] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f3],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff],
  [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];
const isWide = (cp: number) => {
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
};
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemes = (s: string) => Array.from(segmenter.segment(s), (g) => g.segment);

function graphemeWidth(g: string): number {
  if (ZERO_WIDTH.test(g)) return 0;
  const cp = g.codePointAt(0)!;
  // An emoji with the picture selector (U+FE0F) is shown two cells wide, like one that is a picture by default.
  return isWide(cp) || g.includes('\ufe0f') ? 2 : 1;
}

/** Terminal columns `s` takes (our colour codes take none). */
export const displayWidth = (s: string) =>
  graphemes(s.replace(SGR_CODES, '')).reduce((n, g) => n + graphemeWidth(g), 0);

/** `text` cut to `width` terminal columns, ending in … when cut; never splits a character. */
export function cut(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let shown = '';
  let used = 0;
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (used + w > width - 1) break;
    shown += g;
    used += w;
  }
  return `${shown}…`;
}

/** `text` padded with spaces to `width` terminal columns (left-aligned, or right with `right`). */
export function pad(text: string, width: number, right = false): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return right ? fill + text : text + fill;
}

/** A table cell: one line of sanitized text; objects as JSON; nothing as `-`. */
export const cellText = (v: unknown) =>
  sanitize(
    (v === null || v === undefined || v === '' ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v))
      .replace(/\r?\n/g, ' ⏎ ')
      .replace(/\t/g, ' '),
  );

/**
 * Plain text cut into lines of at most `width` columns at word boundaries or after `|` (a word
 * longer than a line stays whole); `indent` starts every line after the first.
 */
export function wrap(text: string, width: number, indent = ''): string {
  if (!Number.isFinite(width) || displayWidth(text) <= width) return text;
  const lines: string[] = [];
  let line = '';
  // Each word with the spaces before it, so padding inside the first line is kept; a list of
  // choices (a|b|c) may break after a bar.
  for (const token of text.match(/ *(?:[^ |]+\|?|\|)/g) ?? []) {
    if (!line.trim() || displayWidth(line + token) <= width) {
      line += token;
      continue;
    }
    lines.push(line);
    line = `${indent}${token.trimStart()}`;
  }
  lines.push(line);
  return lines.join('\n');
}

export interface Column<R> {
  header: string;
  value(row: R): unknown;
  /** Colour of a cell, from its row. */
  paint?(row: R): Paint | undefined;
  /** Cells (and the header) are never cut below this width (default 5). */
  min?: number;
  /**
   * A low-value column: it gives way first (shrunk to its minimum, then left out), highest `drop`
   * first. Columns without one identify the row and keep their width while any of these can give.
   */
  drop?: number;
  /** Right-aligned (numbers). */
  right?: boolean;
  /** Never cut (ids: what the next command needs, copied from the table). */
  whole?: boolean;
  /**
   * Cut in the middle, never below the width at which the column's values still all differ
   * (worker ids: `build-server-a` and `build-server-b` become `bu…r-a` and `bu…r-b`, never `buil…`).
   */
  distinct?: boolean;
}

/** A column from a field of the row, with a human header. */
export const col = <R extends Record<string, unknown>>(
  key: keyof R & string,
  header = key.replace(/_id$/, '').replace(/_/g, ' ').toUpperCase(),
  extra: Partial<Column<R>> = {},
): Column<R> => ({ header, value: (r) => r[key], ...(key === 'id' ? { whole: true } : {}), ...extra });

/** `text` cut to `width` columns by taking out its middle (keeping how it ends): `build-…ver-a`. */
export function cutMiddle(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  const gs = graphemes(text);
  if (width <= 2) return cut(text, width);
  const tail = Math.floor((width - 1) / 2);
  const head = width - 1 - tail;
  let h = '';
  let used = 0;
  for (const g of gs) {
    if (used + graphemeWidth(g) > head) break;
    h += g;
    used += graphemeWidth(g);
  }
  let t = '';
  used = 0;
  for (const g of [...gs].reverse()) {
    if (used + graphemeWidth(g) > tail) break;
    t = g + t;
    used += graphemeWidth(g);
  }
  return `${h}…${t}`;
}

/** The narrowest width at which `values` cut in the middle still all differ (their full width at most). */
export function distinctWidth(values: string[], floor = 5): number {
  const unique = [...new Set(values)];
  const full = Math.max(0, ...unique.map(displayWidth));
  for (let w = Math.min(floor, full); w < full; w++)
    if (new Set(unique.map((v) => cutMiddle(v, w))).size === unique.length) return w;
  return full;
}

/**
 * Rows under human headers, fitted to the terminal: low-value columns (`drop`) shrink to their
 * minimum and then go, highest `drop` first, while identity columns keep their width; only then do
 * the others shrink (cut with …). `whole` cells are never cut. `wide` shows everything.
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
  const allTexts = new Map(columns.map((c) => [c, rows.map((r) => cellText(c.value(r)))]));
  const full = new Map(
    columns.map((c) => [c, Math.max(displayWidth(c.header), ...allTexts.get(c)!.map(displayWidth))]),
  );
  const floor = new Map(
    columns.map((c) => {
      const f = full.get(c)!;
      if (c.whole) return [c, f];
      const min = Math.max(c.min ?? 5, c.distinct ? distinctWidth(allTexts.get(c)!, c.min ?? 5) : 0);
      return [c, Math.min(f, min)];
    }),
  );
  const byDrop = (list: Column<R>[]) =>
    list.filter((c) => c.drop !== undefined).sort((a, b) => b.drop! - a.drop!);
  const sum = (list: Column<R>[], w: (c: Column<R>) => number) =>
    list.reduce((n, c) => n + w(c), 0) + gap * Math.max(0, list.length - 1);
  // Leave out low-value columns while the identity ones (at full width) and the rest (at their
  // minimum) do not fit.
  let kept = [...columns];
  while (sum(kept, (c) => (c.drop === undefined ? full.get(c)! : floor.get(c)!)) > limit) {
    const next = byDrop(kept)[0];
    if (!next) break;
    kept = kept.filter((c) => c !== next);
  }
  const widths = new Map(kept.map((c) => [c, full.get(c)!]));
  let excess = sum(kept, (c) => widths.get(c)!) - limit;
  // The low-value columns give way first, then the widest of the others, one column at a time.
  for (const c of byDrop(kept)) {
    if (excess <= 0) break;
    const give = Math.min(excess, widths.get(c)! - floor.get(c)!);
    widths.set(c, widths.get(c)! - give);
    excess -= give;
  }
  while (excess > 0) {
    let widest: Column<R> | undefined;
    for (const c of kept)
      if (
        widths.get(c)! > floor.get(c)! &&
        (!widest || widths.get(c)! - floor.get(c)! > widths.get(widest)! - floor.get(widest)!)
      )
        widest = c;
    if (!widest) break;
    widths.set(widest, widths.get(widest)! - 1);
    excess--;
  }
  const line = (cells: string[], painter?: (i: number, s: string) => string, header = false) =>
    cells
      .map((cell, i) => {
        const c = kept[i]!;
        const w = widths.get(c)!;
        // Values cut in the middle keep what tells them apart; a header reads best from its start.
        const shown = c.distinct && !header ? cutMiddle(cell, w) : cut(cell, w);
        const fill = ' '.repeat(Math.max(0, w - displayWidth(shown)));
        const text = painter ? painter(i, shown) : shown;
        return c.right ? fill + text : text + fill;
      })
      .join(' '.repeat(gap))
      .trimEnd();
  const header = line(
    kept.map((c) => c.header),
    (_i, s) => paint(style, 'bold', s),
    true,
  );
  const body = rows.map((r, n) =>
    line(
      kept.map((c) => allTexts.get(c)![n]!),
      (i, s) => paint(style, kept[i]!.paint?.(r), s),
    ),
  );
  return `${[header, ...body].join('\n')}\n`;
}

/** Rows of plain fields, each column named by its field (for lists whose shape is the API's). */
export function fieldColumns<R extends Record<string, unknown>>(keys: (keyof R & string)[]): Column<R>[] {
  return keys.map((k) => col<R>(k));
}

/** One object as "key  value" lines, values sanitized; a `status` is shown in its colour. */
export function printRecord(record: Record<string, unknown>, style?: Style): void {
  const width = Math.max(...Object.keys(record).map((k) => displayWidth(sanitize(k))));
  for (const [k, v] of Object.entries(record)) {
    const value = sanitize(
      v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v),
    );
    const shown =
      style && (k === 'status' || k === 'state_status') ? paintStatus(style, String(v), value) : value;
    process.stdout.write(`${pad(sanitize(k), width)}  ${shown}\n`);
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

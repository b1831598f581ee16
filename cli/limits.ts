/**
 * Text longer than the server keeps (it rejects the whole request otherwise): cut with a marker
 * that says how much went, and a warning on stderr, so a report is never lost to its own length.
 */

/** What the API keeps (lib/builds/build.schema.ts: message 2,000 characters, error 8 KiB). */
export const LIMITS = { message: 2000, error: 8 * 1024 } as const;

const marker = (cut: number) => `\n… [${cut} characters cut by bldst] …\n`;
const markerAfter = (start: string, cut: number) => (start ? marker(cut) : marker(cut).slice(1));

/**
 * `text` within `max` characters: its start, the marker and its end (the start says what failed,
 * the end is the latest output), or with `head` lines kept whole first (run's `exit code N`).
 */
export function clip(text: string, max: number, opts: { head?: string } = {}): { text: string; cut: number } {
  const head = opts.head ? `${opts.head}\n` : '';
  const body = opts.head && text.startsWith(head) ? text.slice(head.length) : text;
  if (head.length + body.length <= max) return { text, cut: 0 };
  // The marker's own length depends on the count: reserve room for the widest it can be.
  const room = max - head.length - marker(body.length).length;
  const start = opts.head ? 0 : Math.floor(room / 4);
  const end = room - start;
  const cut = body.length - start - end;
  const kept = body.slice(0, start);
  return { text: `${head}${kept}${markerAfter(kept, cut)}${body.slice(body.length - end)}`, cut };
}

/** A flag's text clipped to the server's limit, warning through `warn` when it was cut. */
export function clipFlag(
  value: string | undefined,
  max: number,
  flag: string,
  warn: (line: string) => void = (line) => process.stderr.write(`bldst: warning: ${line}\n`),
): string | undefined {
  if (value === undefined) return undefined;
  const { text, cut } = clip(value, max);
  if (cut > 0)
    warn(
      `${flag} is ${value.length} characters, more than the ${max} the server keeps: sent with ${cut} cut from the middle`,
    );
  return text;
}

/**
 * Expected results written in the docs, and how output is compared with them (docs/TESTING.md).
 *
 * An expectation is JSON with one extension: `…` (or `...`) means "anything". As an object
 * member or an array element it says more may follow; as a value it matches any value; inside a
 * string it matches any run of characters. Objects are compared by the fields shown (extra fields
 * in the output are fine), arrays element by element (same length unless a `…` element allows more).
 */

export type Pattern =
  | { kind: 'any' }
  | { kind: 'object'; members: [string, Pattern][] }
  | { kind: 'array'; items: Pattern[]; more: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'literal'; value: number | boolean | null };

const ELLIPSIS = /^(…|\.\.\.)/;

/** Parses an expectation; throws with the position of the first thing that is not one. */
export function parsePattern(text: string): Pattern {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i + 1} of ${JSON.stringify(text)}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const ellipsis = (): boolean => {
    const m = ELLIPSIS.exec(text.slice(i));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  const string = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) fail('expected a string');
    i += m![0].length;
    return JSON.parse(m![0]) as string;
  };
  const value = (): Pattern => {
    ws();
    if (ellipsis()) return { kind: 'any' };
    const c = text[i];
    if (c === '{') {
      i++;
      const members: [string, Pattern][] = [];
      ws();
      while (text[i] !== '}') {
        ws();
        if (!ellipsis()) {
          const key = string();
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          members.push([key, value()]);
        }
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
        ws();
      }
      i++;
      return { kind: 'object', members };
    }
    if (c === '[') {
      i++;
      const items: Pattern[] = [];
      let more = false;
      ws();
      while (text[i] !== ']') {
        ws();
        if (ellipsis()) more = true;
        else if (more) fail("elements after '…' in an array");
        else items.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail("expected ',' or ']'");
        ws();
      }
      i++;
      return { kind: 'array', items, more };
    }
    if (c === '"') return { kind: 'string', value: string() };
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) fail('expected a JSON value or …');
    i += m![0].length;
    return { kind: 'literal', value: JSON.parse(m![0]) as number | boolean | null };
  };
  const result = value();
  ws();
  if (i !== text.length) fail('unexpected text after the value');
  return result;
}

/** Whether an expectation's text is complete (brackets closed outside strings): continuation lines end there. */
export function isBalanced(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return depth <= 0 && !inString;
}

/** Differences between an actual value and a pattern, as `path: expected …, got …` lines; empty when it matches. */
export function mismatches(actual: unknown, pattern: Pattern, path = '$'): string[] {
  const got = () => JSON.stringify(actual)?.slice(0, 200) ?? 'undefined';
  switch (pattern.kind) {
    case 'any':
      return [];
    case 'literal':
      return actual === pattern.value
        ? []
        : [`${path}: expected ${JSON.stringify(pattern.value)}, got ${got()}`];
    case 'string': {
      if (typeof actual !== 'string') return [`${path}: expected a string, got ${got()}`];
      const parts = pattern.value.split(/…|\.\.\./);
      const re = new RegExp(`^${parts.map(escapeRegExp).join('[\\s\\S]*')}$`);
      return re.test(actual) ? [] : [`${path}: expected ${JSON.stringify(pattern.value)}, got ${got()}`];
    }
    case 'object': {
      if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
        return [`${path}: expected an object, got ${got()}`];
      const record = actual as Record<string, unknown>;
      return pattern.members.flatMap(([key, p]) =>
        key in record ? mismatches(record[key], p, `${path}.${key}`) : [`${path}.${key}: missing`],
      );
    }
    case 'array': {
      if (!Array.isArray(actual)) return [`${path}: expected an array, got ${got()}`];
      if (pattern.more ? actual.length < pattern.items.length : actual.length !== pattern.items.length)
        return [
          `${path}: expected ${pattern.more ? 'at least ' : ''}${pattern.items.length} element(s), got ${actual.length}`,
        ];
      return pattern.items.flatMap((p, i) => mismatches(actual[i], p, `${path}[${i}]`));
    }
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The last JSON value a command printed. Output may hold several values back to back (`curl -s`
 * adds no newline) and lines that are not JSON; those are skipped.
 */
export function lastJsonValue(output: string): { found: boolean; value?: unknown } {
  let last: { found: boolean; value?: unknown } = { found: false };
  let i = 0;
  while (i < output.length) {
    const c = output[i]!;
    if (c === '{' || c === '[') {
      const end = valueEnd(output, i);
      if (end > 0) {
        try {
          last = { found: true, value: JSON.parse(output.slice(i, end)) };
          i = end;
          continue;
        } catch {
          // not JSON after all: skip this character
        }
      }
    }
    i++;
  }
  return last;
}

/**
 * An expectation's JSON and the note after it: `# {"a":1}   (why)` compares `{"a":1}` and shows
 * "(why)" to the reader only.
 */
export function splitNote(text: string): { json: string; note: string } {
  const end = /^[{[]/.test(text) ? valueEnd(text, 0) : -1;
  return end > 0 ? { json: text.slice(0, end), note: text.slice(end).trim() } : { json: text, note: '' };
}

/** The index after the bracketed value starting at `start`, or -1 if it never closes. */
function valueEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The status of the last response in a `curl -D` header dump (after redirects and 100-continue). */
export function lastHttpStatus(headers: string): number | null {
  const all = [...headers.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
  return all.length ? Number(all[all.length - 1]![1]) : null;
}

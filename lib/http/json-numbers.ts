/**
 * JSON numbers that a JavaScript number cannot hold exactly. `JSON.parse` rounds them silently
 * (12345678901234567890 becomes 12345678901234567000, 1e400 becomes Infinity), so a body holding
 * one would be stored as something the caller never sent. The request body reader refuses them,
 * naming the path, before anything else sees the body.
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Whether the decimal number in `token` (JSON grammar) is exactly the double it parses to. */
export function isExactJsonNumber(token: string): boolean {
  const value = Number(token);
  if (!Number.isFinite(value)) return false;
  return decimal(token) === decimal(String(value));
}

/** A canonical form of a decimal literal: sign, significant digits, exponent (all zeros alike). */
function decimal(literal: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) return literal;
  const [, sign, whole, fraction = '', exponent = '0'] = m;
  const digits = `${whole}${fraction}`;
  const lead = digits.search(/[1-9]/);
  if (lead < 0) return '0';
  const significant = digits.slice(lead).replace(/0+$/, '');
  // value = 0.<significant> × 10^e
  const e = Number(exponent) + whole!.length - lead;
  return `${sign}${significant}e${e}`;
}

/**
 * Every number token of a valid JSON text that is not exact, with where it stands.
 * Call it only on text that `JSON.parse` accepted (it skips strings, it does not validate).
 */
export function inexactNumbers(text: string): { start: number; end: number; token: string }[] {
  const found: { start: number; end: number; token: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      const token = m ? m[0] : text[i]!;
      if (m && !isExactJsonNumber(token)) found.push({ start: i, end: i + token.length, token });
      i += token.length;
    } else {
      i++;
    }
  }
  return found;
}

/**
 * Paths (`a.b.0`) of the inexact numbers of a JSON text, found by parsing a copy in which each
 * such number is replaced by a marker string. Empty when every number is exact.
 */
export function inexactNumberPaths(text: string): { path: string; token: string }[] {
  const tokens = inexactNumbers(text);
  if (tokens.length === 0) return [];
  const marker = `\u0000inexact-${Math.random().toString(36).slice(2)}:`;
  let copy = '';
  let at = 0;
  for (const t of tokens) {
    copy += `${text.slice(at, t.start)}${JSON.stringify(marker + t.token)}`;
    at = t.end;
  }
  copy += text.slice(at);
  const paths: { path: string; token: string }[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (typeof value === 'string' && value.startsWith(marker))
      paths.push({ path: path.join('.'), token: value.slice(marker.length) });
    else if (Array.isArray(value)) for (const [n, v] of value.entries()) walk(v, [...path, String(n)]);
    else if (value !== null && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(JSON.parse(copy), []);
  return paths;
}

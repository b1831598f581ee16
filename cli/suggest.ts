/**
 * "Did you mean": the nearest of the known words to one that is not known, by edit distance
 * (insertions, deletions, substitutions and swaps of neighbours), as git and npm suggest.
 */
import { usage } from './errors';

/** Optimal string alignment distance: Levenshtein plus a swap of two neighbours as one edit. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * The known words nearest to `word` (closest first), within a distance that grows with its length
 * (a third of it, at least 2); a known word that starts with `word` counts as near (`--stat` → `--state`).
 */
export function nearest(word: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  return [...new Set(known)]
    .map((k) => ({ k, d: k.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, k) }))
    .filter((x) => x.d <= limit && x.k !== word)
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, max)
    .map((x) => x.k);
}

/** "; did you mean 'a' or 'b'?" or '' when nothing is near. */
export function didYouMean(word: string, known: Iterable<string>, quote = (s: string) => `'${s}'`): string {
  const near = nearest(word, known);
  if (near.length === 0) return '';
  const list = near.map(quote);
  return `; did you mean ${list.length === 1 ? list[0] : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`}?`;
}

/** `value` if it is one of `choices`, else exit 2 naming them and the nearest. */
export function choice<T extends string>(
  value: string | undefined,
  choices: readonly T[],
  flag: string,
): T | undefined {
  if (value === undefined || (choices as readonly string[]).includes(value)) return value as T | undefined;
  throw usage(`${flag} must be one of ${choices.join(', ')}, not '${value}'${didYouMean(value, choices)}`);
}

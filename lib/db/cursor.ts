import { createHash } from 'node:crypto';
import { validationError } from '../errors';

type Key = Record<string, string | number>;

/**
 * What a start key of one query must look like, attribute by attribute: an exact value (the
 * query's own partition) or a pattern. The repository that runs the query states it.
 */
export type KeyShape = Readonly<Record<string, string | RegExp>>;

/**
 * Opaque pagination cursors: the position (a DynamoDB key) plus a digest of the query it belongs
 * to, so a cursor replayed with other filters is rejected instead of returning a wrong page.
 * Decoding checks the key fully against the query's KeyShape: a forged or edited cursor (other
 * attributes, another partition, wrong types) is a 400 and never reaches the store.
 */
export function encodeCursor(key: Key, query: unknown): string {
  return Buffer.from(JSON.stringify({ k: key, q: digest(query) }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, query: unknown, shape: KeyShape): Key {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!isCursor(parsed)) throw invalid();
  if (parsed.q !== digest(query)) {
    throw validationError('cursor belongs to a different query; repeat the same filters or drop the cursor', {
      field: 'cursor',
    });
  }
  if (!fits(parsed.k, shape)) throw invalid();
  return parsed.k;
}

function isCursor(value: unknown): value is { k: Record<string, unknown>; q: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { k, q } = value as { k?: unknown; q?: unknown };
  return (
    Object.keys(value).length === 2 &&
    typeof q === 'string' &&
    typeof k === 'object' &&
    k !== null &&
    !Array.isArray(k)
  );
}

/** Exactly the shape's attributes, each a string of the required value or pattern. */
function fits(key: Record<string, unknown>, shape: KeyShape): key is Key {
  const names = Object.keys(key);
  if (names.length !== Object.keys(shape).length) return false;
  return names.every((name) => {
    if (!Object.hasOwn(shape, name)) return false;
    const value = key[name];
    const want = shape[name]!;
    if (typeof value !== 'string' || value.length > 1024) return false;
    return typeof want === 'string' ? value === want : want.test(value);
  });
}

const invalid = () => validationError('cursor is not a cursor this API returned', { field: 'cursor' });

const digest = (query: unknown) =>
  createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);

import { createHash } from 'node:crypto';
import { validationError } from '../errors';

type Key = Record<string, string | number>;

/**
 * Opaque pagination cursors: the position (a DynamoDB key) plus a digest of the query it belongs
 * to, so a cursor replayed with other filters is rejected instead of returning a wrong page.
 */
export function encodeCursor(key: Key, query: unknown): string {
  return Buffer.from(JSON.stringify({ k: key, q: digest(query) }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, query: unknown): Key {
  let parsed: unknown;
  try {
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
  return parsed.k;
}

function isCursor(value: unknown): value is { k: Key; q: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { k, q } = value as { k?: unknown; q?: unknown };
  return (
    typeof q === 'string' &&
    typeof k === 'object' &&
    k !== null &&
    Object.values(k).every((v) => typeof v === 'string' || typeof v === 'number')
  );
}

const invalid = () => validationError('cursor is not a cursor this API returned', { field: 'cursor' });

const digest = (query: unknown) =>
  createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);

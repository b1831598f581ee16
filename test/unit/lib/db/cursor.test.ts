import { decodeCursor, encodeCursor, type KeyShape } from '../../../../lib/db/cursor';
import { AppError } from '../../../../lib/errors';

describe('cursor', () => {
  const key = { pk: 'BUILD#a', sk: 'BUILD', gsi4pk: 'BUILDS', gsi4sk: '2026#a' };
  const shape: KeyShape = { pk: /^BUILD#[a-z]+$/, sk: 'BUILD', gsi4pk: 'BUILDS', gsi4sk: /^2026#[a-z]+$/ };
  const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const q = JSON.parse(Buffer.from(encodeCursor(key, {}), 'base64url').toString()).q;

  it('round-trips a key for the same query', () => {
    expect(decodeCursor(encodeCursor(key, { status: 'failed' }), { status: 'failed' }, shape)).toEqual(key);
  });

  it('rejects a cursor replayed with other filters', () => {
    const cursor = encodeCursor(key, { status: 'failed' });
    expect(() => decodeCursor(cursor, { status: 'blocked' }, shape)).toThrow(AppError);
  });

  it.each([
    ['garbage', 'garbage!'],
    ['a number key', forge({ k: 1, q })],
    ['an array', forge([])],
    ['an empty key', forge({ k: {}, q })],
    ['another partition', forge({ k: { ...key, gsi4pk: 'STATUS#failed' }, q })],
    ['an extra attribute', forge({ k: { ...key, x: 'y' }, q })],
    ['a number value', forge({ k: { ...key, sk: 1 }, q })],
    ['a nested value', forge({ k: { ...key, sk: { S: 'BUILD' } }, q })],
    ['an extra field', forge({ k: key, q, z: 1 })],
  ])('rejects a cursor it did not make (%s) naming the field', (_, cursor) => {
    try {
      decodeCursor(cursor, {}, shape);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).details).toEqual({ field: 'cursor' });
    }
  });
});

import { decodeCursor, encodeCursor } from '../../../../lib/db/cursor';
import { AppError } from '../../../../lib/errors';

describe('cursor', () => {
  const key = { pk: 'BUILD#a', sk: 'BUILD', gsi4pk: 'BUILDS', gsi4sk: '2026#a' };

  it('round-trips a key for the same query', () => {
    expect(decodeCursor(encodeCursor(key, { status: 'failed' }), { status: 'failed' })).toEqual(key);
  });

  it('rejects a cursor replayed with other filters', () => {
    const cursor = encodeCursor(key, { status: 'failed' });
    expect(() => decodeCursor(cursor, { status: 'blocked' })).toThrow(AppError);
  });

  it.each(['garbage', Buffer.from('{"k":1}').toString('base64url'), Buffer.from('[]').toString('base64url')])(
    'rejects a cursor it did not make (%s)',
    (cursor) => {
      expect(() => decodeCursor(cursor, {})).toThrow(/cursor/);
    },
  );
});

/** The local stream reader's decoding: any metadata decodes, and a record that cannot is skipped, not fatal. */
import { marshall } from '@aws-sdk/util-dynamodb';
import { decodable, decodeImage, repairEmptyMaps } from '../../../../local/event-stream';

/** What the streams client hands over: every empty map `{"M":{}}` arrives as `{}`. */
function asStreamClientGivesIt(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asStreamClientGivesIt);
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof Set) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && entries[0]![0] === 'M' && Object.keys(entries[0]![1] as object).length === 0)
    return {};
  return Object.fromEntries(entries.map(([k, v]) => [k, asStreamClientGivesIt(v)]));
}

describe('local stream decoding', () => {
  it.each([
    [{ metadata: { AMI: {} } }],
    [{ metadata: { M: {}, L: {}, S: { N: {} }, NULL: [{}, { BOOL: {} }] } }],
    [{ metadata: { deep: { a: { b: [{ c: {} }] } } }, empty: {} }],
    [{ bytes: new Uint8Array([1, 2]), set: new Set(['a']), n: 1, s: 'x', ok: true, none: null }],
  ])('decodes %j exactly as it was written', (item) => {
    const image = asStreamClientGivesIt(marshall(item, { convertEmptyValues: false }));
    expect(decodeImage(image)).toEqual(item);
  });

  it('leaves a well-formed image unchanged', () => {
    const image = marshall({ a: { b: 1 }, l: [1, 'x'] });
    expect(repairEmptyMaps(image)).toEqual(image);
  });

  it('skips (and logs) a record it cannot decode and decodes the ones after it', () => {
    const log = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const records = [
        { eventName: 'INSERT' as const, dynamodb: { SequenceNumber: '1', NewImage: marshall({ n: 1 }) } },
        {
          eventName: 'INSERT' as const,
          dynamodb: { SequenceNumber: '2', NewImage: { x: { Q: '1' } } as never },
        },
        { eventName: 'INSERT' as const, dynamodb: { SequenceNumber: '3', NewImage: marshall({ n: 3 }) } },
      ];
      expect(decodable(records, (r) => decodeImage(r.dynamodb?.NewImage))).toEqual([{ n: 1 }, { n: 3 }]);
      expect(log).toHaveBeenCalledTimes(1);
      expect(String(log.mock.calls[0]![0])).toMatch(/skipped record 2 .*cannot be decoded/);
    } finally {
      log.mockRestore();
    }
  });
});

import { MAX_METADATA_DEPTH, metadataSchema } from '../../../../lib/builds/build.schema';
import { inexactNumberPaths, isExactJsonNumber } from '../../../../lib/http/json-numbers';

const nest = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
};
const issues = (value: unknown) => {
  const result = metadataSchema.safeParse(value);
  return result.success
    ? []
    : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('metadataSchema', () => {
  it.each([
    ['an empty object', {}],
    ['DynamoDB number range ends', { small: 1e-130, big: Number.MAX_SAFE_INTEGER, neg: -1e-130, zero: 0 }],
    ['nesting at the limit', nest(MAX_METADATA_DEPTH)],
    ['unicode text and keys', { ключ: 'значение 🚀', emoji: ['😀'] }],
    ['arrays, booleans and null', { list: [1, 'two', null, true, { x: [] }] }],
  ])('accepts %s unchanged', (_name, value) => {
    expect(metadataSchema.parse(value)).toEqual(value);
  });

  it.each([
    ['an empty key', { '': 1 }, ''],
    ['a number past 2^53', { x: 1e20 }, 'x'],
    ['a number below 1e-130', { x: 1e-200 }, 'x'],
    ['a negative number past the range', { x: -1e130 }, 'x'],
    ['a prototype key', JSON.parse('{"__proto__":{"p":1}}'), '__proto__'],
    ['a constructor key', { constructor: { prototype: { p: 1 } } }, 'constructor'],
    [
      'nesting one level past the limit',
      nest(MAX_METADATA_DEPTH + 1),
      'a.'.repeat(MAX_METADATA_DEPTH - 1) + 'a',
    ],
    ['a lone surrogate', { s: 'x\ud800' }, 's'],
    [
      'a deep array',
      { l: JSON.parse('['.repeat(40) + ']'.repeat(40)) },
      `l${'.0'.repeat(MAX_METADATA_DEPTH - 1)}`,
    ],
  ])('refuses %s, naming the path', (_name, value, path) => {
    const found = issues(value);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.path).toBe(path);
  });

  it('refuses 2,500 levels of nesting quickly', () => {
    const deep = JSON.parse('{"a":'.repeat(2500) + '1' + '}'.repeat(2500));
    expect(issues(deep)).toHaveLength(1);
  });

  it('refuses what is not an object', () => {
    for (const v of [[], 'x', 1, null]) expect(issues(v).length).toBe(1);
  });
});

describe('JSON numbers', () => {
  it.each(['0', '-0', '1', '0.1', '1.10', '1e2', '1E+2', '-12.5e-3', '9007199254740991', '1e20', '5e-324'])(
    '%s is exact',
    (token) => expect(isExactJsonNumber(token)).toBe(true),
  );
  it.each([
    '9007199254740993',
    '12345678901234567890123456789012345678901',
    '1e400',
    '-1e400',
    '0.1000000000000000000001',
  ])('%s is not', (token) => expect(isExactJsonNumber(token)).toBe(false));
  it('names the path of each inexact number and ignores digits inside strings', () => {
    const text = '{"a":[1,9007199254740993],"b":{"c":1e400},"s":"9007199254740993","d":2}';
    expect(inexactNumberPaths(text)).toEqual([
      { path: 'a.1', token: '9007199254740993' },
      { path: 'b.c', token: '1e400' },
    ]);
    expect(inexactNumberPaths('{"s":"a\\"1e400","n":1}')).toEqual([]);
  });
});

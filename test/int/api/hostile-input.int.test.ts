/**
 * The red-team findings of issue 13, items 1-3, as they were sent: metadata the store cannot keep,
 * forged cursors and unknown fields in a catalog body. Each is a 400 naming what is wrong, and
 * nothing changes.
 */
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  expect(
    (await stack.call('POST', '/builds', { id: 'hostile', platform_id: 'aws', image_type_id: 'rhel9' }))
      .status,
  ).toBe(201);
  expect(
    (await stack.call('POST', '/builds/hostile/states', { state_code: 5, status: 'in_progress' })).status,
  ).toBe(201);
});
afterAll(() => stack.stop());

const nest = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
/** Raw JSON texts of `metadata`, as the attacker sent them (some cannot be written as JS values). */
const BAD_METADATA: [string, string, string][] = [
  ['an empty key', '{"":1}', 'metadata.'],
  ['1e20', '{"x":1e20}', 'metadata.x'],
  ['1e-200', '{"x":1e-200}', 'metadata.x'],
  ['-1e130', '{"x":-1e130}', 'metadata.x'],
  ['a 41-digit number', `{"x":${'1'.repeat(41)}}`, 'metadata.x'],
  ['a prototype chain', '{"constructor":{"prototype":{"p":1}}}', 'metadata.constructor'],
  ['__proto__', '{"__proto__":{"polluted":true}}', 'metadata.__proto__'],
  ['40 levels of nesting', nest(40), `metadata${'.a'.repeat(31)}`],
  ['2,500 levels of nesting', nest(2500), `metadata${'.a'.repeat(31)}`],
];

const ROUTES: [string, string, (metadata: string) => string][] = [
  [
    'POST',
    '/builds',
    (m) => `{"id":"hostile-new","platform_id":"aws","image_type_id":"rhel9","metadata":${m}}`,
  ],
  ['POST', '/builds/hostile/states', (m) => `{"state_code":5,"status":"completed","metadata":${m}}`],
  [
    'POST',
    '/builds/hostile/states/5/artifacts',
    (m) => `{"name":"a.txt","storage_type":"nfs","uri":"nfs://x/a","metadata":${m}}`,
  ],
];

describe.each(ROUTES)('%s %s', (method, path, body) => {
  it.each(BAD_METADATA)(
    'refuses metadata with %s: 400 naming the path, nothing written',
    async (_, m, where) => {
      const before = (await stack.call('GET', '/builds/hostile')).body;
      const res = await stack.call(method, path, body(m));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(where);
      expect((await stack.call('GET', '/builds/hostile')).body).toEqual(before);
      expect((await stack.call('GET', '/builds/hostile-new')).status).toBe(404);
      expect((await stack.call('GET', '/builds/hostile/artifacts')).body.states).toEqual([]);
    },
  );
});

it('keeps metadata at the limits exactly as sent', async () => {
  const metadata = `{"small":1e-130,"big":9007199254740991,"deep":${nest(30)},"text":"ключ 🚀"}`;
  const res = await stack.call(
    'POST',
    '/builds',
    `{"id":"hostile-limits","platform_id":"aws","image_type_id":"rhel9","metadata":${metadata}}`,
  );
  expect(res.status).toBe(201);
  const read = await stack.call('GET', '/builds/hostile-limits');
  expect(read.body.metadata).toEqual(JSON.parse(metadata));
});

describe('forged cursors', () => {
  const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  /** The query digest of a real cursor of this list, so forged ones get past the query check. */
  const digestOf = async (path: string) => {
    const page = await stack.call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1`);
    expect(page.body.next_cursor).toEqual(expect.any(String));
    return JSON.parse(Buffer.from(page.body.next_cursor, 'base64url').toString()).q as string;
  };
  beforeAll(async () => {
    for (const id of ['hostile-p1', 'hostile-p2'])
      await stack.call('POST', '/builds', { id, platform_id: 'aws', image_type_id: 'rhel9' });
    await stack.call('POST', '/builds/hostile-p1/states', { state_code: 5, status: 'in_progress' });
  });

  it.each(['/builds', '/builds/hostile/history', '/platforms', '/image-types'])(
    'GET %s answers 400 naming the cursor, never another partition',
    async (path) => {
      const q = await digestOf(path);
      const forged = [
        forge({ k: {}, q }),
        forge({ k: { pk: 'BUILD#hostile-p1', sk: 'HIST#0000000001' }, q }),
        forge({ k: { pk: 'BUILD#hostile-p1', sk: 'BUILD', gsi4pk: 'STATUS#failed', gsi4sk: 'x' }, q }),
        forge([{ k: {}, q }]),
        forge({ k: { pk: 1, sk: 2 }, q }),
        forge({ k: { pk: { S: 'x' } }, q }),
        forge(42),
        'not base64!',
      ];
      for (const cursor of forged) {
        const res = await stack.call('GET', `${path}?cursor=${encodeURIComponent(cursor)}`);
        expect({ cursor, status: res.status, details: res.body.error?.details }).toEqual({
          cursor,
          status: 400,
          details: { field: 'cursor' },
        });
      }
    },
  );
});

it('PUT /projects/{id}/state-codes refuses unknown top-level fields', async () => {
  expect((await stack.call('POST', '/projects', { id: 'hostile-catalog', name: 'Hostile' })).status).toBe(
    201,
  );
  const before = (await stack.call('GET', '/projects/hostile-catalog/state-codes')).body;
  const codes = [
    { code: 0, name: 'Start' },
    { code: 100, name: 'Done' },
  ];
  for (const extra of ['"zz_unknown":1', '"__proto__":{"x":1}', '"constructor":{}']) {
    const res = await stack.call(
      'PUT',
      '/projects/hostile-catalog/state-codes',
      `{"state_codes":${JSON.stringify(codes)},${extra}}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/unknown field/);
  }
  expect((await stack.call('GET', '/projects/hostile-catalog/state-codes')).body).toEqual(before);
  expect(
    (await stack.call('PUT', '/projects/hostile-catalog/state-codes', { state_codes: codes })).status,
  ).toBe(200);
});

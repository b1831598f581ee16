/**
 * Property-based fuzzing of every route in the route table (lib/http/routes.ts), through the local
 * gateway, with fast-check. Each case is a request built from a valid template for its route and
 * then damaged: wrong types, sizes, unicode (lone surrogates too), numbers at and past the store's
 * limits (as raw JSON text), deep nesting, unknown and prototype fields, forged cursors, odd path
 * parameters, odd headers (content types, credentials, Idempotency-Key, If-Match, X-Lease-Id).
 *
 * For every case: no 5xx; every 4xx is the JSON error shape; and a refused request changed nothing
 * (the items it could touch, read straight from the table, are the same before and after).
 *
 * Fixed seed. FUZZ_RUNS sets the cases per route (default 40: with about a hundred routes, some
 * 4,000 cases, the longest file of `npm test`; routes that run scrypt get a quarter), FUZZ_SEED the
 * seed: `FUZZ_RUNS=300 npx jest test/int/api/fuzz.int.test.ts` for a longer run.
 */

import fc from 'fast-check';
import { QueryCommand, type QueryCommandInput } from '../../../lib/db/commands';
import { INDEXES } from '../../../lib/db/table-definition';
import { ROUTES, type Route, routeKey } from '../../../lib/http/routes';
import { services } from '../../../lib/runtime';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const RUNS = Number(process.env.FUZZ_RUNS || 40);
const SEED = Number(process.env.FUZZ_SEED || 1313);
/** scrypt per case (sign-ins, user creation): fewer cases keep the run modest. */
const SLOW_ROUTES = new Set(['POST /auth/token', 'POST /users']);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack?.stop());

// ---------------------------------------------------------------- generators

/** Raw JSON number texts at and past what a double and DynamoDB keep. */
const RAW_NUMBERS = [
  '1e20',
  '1e-200',
  '-1e130',
  '1e126',
  '1e-131',
  '1e400',
  '-0',
  '9007199254740993',
  '12345678901234567890123456789012345678901',
  '0.1000000000000000000000001',
  '9.9999999999999999999999999999999999999e125',
  '1e-130',
  '9007199254740991',
  '4.9e-324',
];
const RAW = '\u0000raw:';
const rawNumber = fc.constantFrom(...RAW_NUMBERS).map((t) => `${RAW}${t}`);

const nested = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 3 === 2 ? [value] : { a: value };
  return value;
};

const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\udfff', 'a\ud83d', '🚀', '..', '../x', '%00', 'null'),
  fc.integer({ min: 200, max: 70_000 }).map((n) => 'x'.repeat(n)),
);

/** Values at and past what the store keeps: the metadata findings of the red-team pass and their kin. */
const storeEdge: fc.Arbitrary<unknown> = fc.oneof(
  rawNumber,
  fc.constantFrom({ '': 1 }, JSON.parse('{"__proto__":{"p":1}}'), { constructor: { prototype: { p: 1 } } }),
  fc.constantFrom('x\ud800', '\udfff', 'ok'),
  fc.integer({ min: 28, max: 45 }).map((d) => nested(d, 1)),
  fc.constantFrom(1e-200, -1e130, 1e300, 2 ** 60, 5e-324),
);

const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  storeEdge,
  text,
  rawNumber,
  fc.double(),
  fc.integer(),
  fc.constantFrom(null, true, false, 0, -1, 101, 1.5, Number.MAX_SAFE_INTEGER, 1e-130, 2 ** 53),
  fc.constantFrom({}, [], { '': 1 }, JSON.parse('{"__proto__":{"x":1}}'), { constructor: { prototype: {} } }),
  fc.integer({ min: 30, max: 60 }).map((d) => nested(d, 1)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

const FORGED_CURSORS = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  fc
    .record({
      k: fc.dictionary(fc.constantFrom('pk', 'sk', 'gsi4pk', 'gsi4sk', 'gsi5pk', 'x'), oddValue),
      q: text,
    })
    .map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  text,
);

/** A body: the route's template with one to three damages, or something else entirely. */
function bodyFor(template: Record<string, unknown> | undefined): fc.Arbitrary<string | undefined> {
  const base = template ?? {};
  const keys = Object.keys(base);
  const damage = fc.oneof(
    // a field replaced by an odd value (metadata gets a nested one often)
    fc
      .tuple(fc.constantFrom(...(keys.length ? keys : ['x'])), oddValue)
      .map(([k, v]) => (b: Record<string, unknown>) => ({
        ...b,
        [k]: v,
      })),
    fc
      .tuple(fc.constantFrom('metadata', ...keys), fc.dictionary(text, oddValue, { maxKeys: 3 }))
      .map(([k, v]) => (b: Record<string, unknown>) => ({ ...b, [k]: v })),
    fc.tuple(text, oddValue).map(([k, v]) => (b: Record<string, unknown>) => ({ ...b, [k]: v })),
    fc.constantFrom(...(keys.length ? keys : ['x'])).map((k) => (b: Record<string, unknown>) => {
      const { [k]: _, ...rest } = b;
      return rest;
    }),
    // metadata (and, through it, the store) reached with one of its edge values, the rest valid
    fc
      .tuple(
        text.filter((t) => t.length < 50),
        storeEdge,
      )
      .map(([k, v]) => (b: Record<string, unknown>) => ({
        ...b,
        metadata: { ...(b.metadata as object), [k]: v },
      })),
    fc.constant((b: Record<string, unknown>) => {
      const rest = JSON.stringify(b);
      return JSON.parse(`{"__proto__":{"polluted":1}${rest === '{}' ? '}' : `,${rest.slice(1)}`}`);
    }),
  );
  const damaged = fc
    .array(damage, { minLength: 0, maxLength: 2 })
    .map((fns) => serialize(fns.reduce((b, f) => f(b), base)));
  return fc.oneof(
    { weight: 6, arbitrary: damaged },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":',
        '[]',
        'null',
        '"x"',
        '1e999',
        '{"a":1}{"b":2}',
        '\uFEFF{}',
        '{"x":"\\ud800"}',
        `${'['.repeat(3000)}${']'.repeat(3000)}`,
        `{"metadata":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}`,
      ),
    },
  );
}

/** JSON text with the raw-number markers put in as bare number tokens. */
function serialize(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000raw:([^"]*)"/g, '$1');
}

/** Percent-encodes like encodeURIComponent, lone surrogates included (as their WTF-8 bytes). */
const encodePath = (value: string) =>
  [...value]
    .map((ch) => {
      try {
        return encodeURIComponent(ch);
      } catch {
        return '%ED%A0%80';
      }
    })
    .join('');

const pathParam = (valid: string) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant(valid) },
    { weight: 2, arbitrary: text.map((t) => encodePath(t.slice(0, 300)) || '%20') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%zz',
        '%',
        '..',
        '.',
        'a'.repeat(129),
        '-x',
        '101',
        '-1',
        '1e2',
        '007',
        '5.0',
      ),
    },
  );

const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});
const headers = fc.record(
  {
    auth: fc.oneof(
      { weight: 8, arbitrary: fc.constant({ 'x-api-key': ADMIN_KEY }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Record<string, string>>(
          { 'x-api-key': '' },
          { 'x-api-key': 'bst_nope' },
          { authorization: 'Bearer x.y.z' },
          { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
          {
            authorization:
              'AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host, Signature=00',
          },
          {},
        ),
      },
    ),
    contentType: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(undefined, 'application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'text/plain',
          'application/octet-stream',
          'multipart/form-data; boundary=x',
          'application/json; charset=latin1',
        ),
      },
    ),
    // Mostly absent or well-formed, so that most cases get past the headers to the body and the store.
    idempotencyKey: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.uuid().map((u) => `fz-${u}`) },
      { weight: 1, arbitrary: fc.oneof(headerText, fc.constantFrom('', ' ', 'k'.repeat(256))) },
    ),
    ifMatch: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('"1"', 'W/"2"', '"99999999999999999"', '*', '"-1"') },
      { weight: 1, arbitrary: headerText },
    ),
    leaseId: fc.oneof(
      { weight: 10, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.oneof(headerText, fc.constant('01JD0000000000000000000000')) },
    ),
  },
  { requiredKeys: ['auth', 'contentType'] },
);

/**
 * Cursors with the list's real query digest (taken from a cursor the list handed out, as an
 * attacker would) and a forged position: other attributes, other partitions, other types.
 */
const forgedWithDigest = (q: string) =>
  fc
    .oneof(
      fc.dictionary(fc.constantFrom('pk', 'sk', 'gsi4pk', 'gsi4sk', 'gsi5pk', 'gsi5sk', 'x'), oddValue, {
        maxKeys: 5,
      }),
      fc.constantFrom<unknown>(
        {},
        [],
        42,
        { pk: 'BUILD#fz-0', sk: 'HIST#0000000001' },
        { pk: 'BUILD#fz-1', sk: 'BUILD', gsi4pk: 'STATUS#failed', gsi4sk: 'x' },
        { pk: 'REF#platform#aws', sk: 'REF', gsi5pk: 'REF#image_type', gsi5sk: 'aws' },
        { pk: { S: 'x' }, sk: 'BUILD' },
      ),
    )
    .map((k) => Buffer.from(JSON.stringify({ k, q })).toString('base64url'));

const query = (route: Route, digest: string | undefined) =>
  fc.array(
    fc.oneof(
      ...(digest ? [fc.tuple(fc.constant('cursor'), forgedWithDigest(digest))] : []),
      fc.tuple(
        fc.constantFrom(
          'limit',
          'cursor',
          'status',
          'project_id',
          'platform_id',
          'include_deactivated',
          'include_revoked',
          'zz',
        ),
        text,
      ),
      fc.tuple(
        fc.constant('limit'),
        fc.constantFrom('0', '1', '100', '101', '500', '501', '-1', '1.5', '1e2', 'NaN', ''),
      ),
      fc.tuple(fc.constant('cursor'), FORGED_CURSORS),
    ),
    { maxLength: route.method === 'GET' ? 4 : 2 },
  );

// ---------------------------------------------------------------- targets and templates

interface Target {
  /** Values for the route's path parameters. */
  params: Record<string, string>;
  body?: Record<string, unknown>;
  /** The table items a refused request must leave alone. */
  snapshot: () => Promise<unknown>;
  /** For lists: the query digest of a real cursor of the unfiltered list. */
  cursorDigest?: string;
}

/** The digest part of a cursor the list at `path` hands out (limit=1), if it has a next page. */
async function digestOf(path: string): Promise<string | undefined> {
  const page = await stack.call('GET', `${path}?limit=1`);
  const cursor = page.body?.next_cursor;
  return cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString()).q : undefined;
}

const db = () => services().db;
async function items(input: Omit<QueryCommandInput, 'TableName'>): Promise<unknown> {
  const res = await db().send(new QueryCommand({ TableName: stack.tableName, ...input }));
  return res.Items ?? res.Count;
}
const partition = (pk: string) =>
  items({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk },
    ConsistentRead: true,
  });
const kindCount = (kind: string) =>
  items({
    IndexName: INDEXES.byKind.name,
    KeyConditionExpression: 'gsi5pk = :k',
    ExpressionAttributeValues: { ':k': kind },
    Select: 'COUNT',
  });
const buildCount = () =>
  items({
    IndexName: INDEXES.byCreated.name,
    KeyConditionExpression: 'gsi4pk = :k',
    ExpressionAttributeValues: { ':k': 'BUILDS' },
    Select: 'COUNT',
  });

const KIND_PATHS: Record<string, { type: string; body: Record<string, unknown> }> = {
  projects: { type: 'project', body: { name: 'Fuzz' } },
  platforms: { type: 'platform', body: { name: 'Fuzz', cloud_provider: 'aws', region: 'us-east-1' } },
  'os-versions': { type: 'os_version', body: { name: 'Fuzz', version: '1.0' } },
  'image-types': { type: 'image_type', body: { name: 'Fuzz' } },
};

async function targetFor(route: Route, n: number): Promise<Target> {
  const key = routeKey(route);
  const [, first] = route.path.split('/');
  if (route.path.startsWith('/builds/{id}')) {
    const id = `fz-${n}`;
    await stack.call('POST', '/builds', { id, platform_id: 'aws', image_type_id: 'rhel9' });
    await stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'completed' });
    await stack.call('POST', `/builds/${id}/states/5/artifacts`, {
      name: 'a.raw',
      storage_type: 'nfs',
      uri: 'nfs://f/a.raw',
      checksum: `sha256:${'a'.repeat(64)}`,
    });
    const bodies: Record<string, Record<string, unknown>> = {
      'POST /builds/{id}/states': {
        state_code: 10,
        status: 'in_progress',
        worker_id: 'w',
        metadata: { k: 1 },
      },
      'POST /builds/{id}/cancel': { reason: 'fuzz' },
      'POST /builds/{id}/unblock': { reason: 'fuzz', additional_attempts: 1 },
      'POST /builds/{id}/lease': { worker_id: 'w', ttl_s: 60 },
      'PUT /builds/{id}/lease': { lease_id: '01JD0000000000000000000000', ttl_s: 60 },
      'DELETE /builds/{id}/lease': { lease_id: '01JD0000000000000000000000' },
      'POST /builds/{id}/heartbeat': { worker_id: 'w', message: 'hi' },
      'POST /builds/{id}/states/{code}/artifacts': {
        name: 'b.raw',
        storage_type: 'nfs',
        uri: 'nfs://f/b.raw',
        size_bytes: 1,
        metadata: {},
      },
      'POST /builds/{id}/states/{code}/artifacts/{name}/verify': {
        checksum: `sha256:${'a'.repeat(64)}`,
        size_bytes: 1,
      },
    };
    return {
      params: { id, code: '5', name: 'a.raw' },
      body: bodies[key],
      snapshot: () => partition(`BUILD#${id}`),
    };
  }
  if (key === 'POST /builds')
    return {
      params: {},
      body: { platform_id: 'aws', image_type_id: 'rhel9', build_number: 1, metadata: { a: [1] } },
      snapshot: buildCount,
    };
  if (first && KIND_PATHS[first]) {
    const { type, body } = KIND_PATHS[first];
    const id = `fz-${n}`;
    await stack.call('POST', `/${first}`, { ...body, id });
    if (route.path.endsWith('/state-codes'))
      return {
        params: { id },
        body: {
          state_codes: [
            { code: 0, name: 'Start' },
            { code: 42, name: 'Mid', max_attempts: 2 },
            { code: 100, name: 'Done' },
          ],
        },
        snapshot: () => partition(`REF#project#${id}`),
      };
    if (route.path === `/${first}`) return { params: {}, body, snapshot: () => kindCount(`REF#${type}`) };
    return {
      params: { id },
      body: route.method === 'PUT' ? { name: 'Renamed' } : undefined,
      snapshot: () => partition(`REF#${type}#${id}`),
    };
  }
  if (key === 'POST /api-keys' || key === 'GET /api-keys')
    return { params: {}, body: { name: 'fuzz', scopes: ['read'] }, snapshot: async () => null };
  if (key === 'DELETE /api-keys/{id}') {
    const created = await stack.call('POST', '/api-keys', { name: `fz-${n}`, scopes: ['read'] });
    return {
      params: { id: created.body.id },
      snapshot: async () =>
        (await stack.call('GET', '/api-keys?include_revoked=true')).body.items.find(
          (k: { id: string }) => k.id === created.body.id,
        ),
    };
  }
  if (key === 'POST /users' || key === 'GET /users')
    return {
      params: {},
      body: {
        username: 'fz-user',
        email: 'fz@example.com',
        password: 'correct horse battery',
        scopes: ['read'],
      },
      snapshot: async () => null,
    };
  if (key === 'DELETE /users/{username}') {
    await stack.call('POST', '/users', {
      username: `fz-${n}`,
      email: 'd@example.com',
      password: 'correct horse battery',
      scopes: ['read'],
    });
    return { params: { username: `fz-${n}` }, snapshot: () => partition(`USER#fz-${n}`) };
  }
  if (key === 'POST /auth/token')
    // A refused sign-in is counted by the login throttle by design: no "changed nothing" check here.
    return {
      params: {},
      body: { username: 'fz-user', password: 'correct horse battery' },
      snapshot: async () => null,
    };
  return { params: {}, snapshot: async () => null };
}

// ---------------------------------------------------------------- the run

interface Problem {
  route: string;
  kind: '5xx' | 'error shape' | 'changed';
  status: number;
  request: { path: string; body?: string; headers: Record<string, string> };
  response: unknown;
}
const problems: Problem[] = [];
const casesPerRoute = new Map<string, number>();

const isErrorShape = (body: unknown) => {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  return (
    !!error &&
    typeof error.code === 'string' &&
    typeof error.message === 'string' &&
    typeof error.details === 'object' &&
    error.details !== null &&
    !Array.isArray(error.details)
  );
};

async function send(path: string, method: string, body: string | undefined, h: Record<string, string>) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: h,
    body: method === 'GET' ? undefined : body,
  });
  const raw = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    nosniff: res.headers.get('x-content-type-options'),
    raw,
    json,
  };
}

/**
 * The one refusal that changes something by design (docs/ARTIFACTS.md#after-verification): a
 * verified artifact that fails verification again is recorded as unverified (an
 * `artifact_unverified` history entry) and the request answers 409. Which case reaches it depends
 * on the route's seed, i.e. on its place in the route table.
 */
function unverifiedByDesign(route: string, body: unknown, before: unknown, after: unknown): boolean {
  if (route !== 'POST /builds/{id}/states/{code}/artifacts/{name}/verify') return false;
  const code = (body as { error?: { code?: string } } | undefined)?.error?.code;
  if (code !== 'checksum_mismatch' && code !== 'artifact_not_uploaded' && code !== 'artifact_missing')
    return false;
  const unverified = (items: unknown) =>
    Array.isArray(items)
      ? items.filter((i: { event?: string }) => i.event === 'artifact_unverified').length
      : 0;
  return unverified(after) === unverified(before) + 1;
}

// One route after another, so a route's snapshots see only its own cases.
it.each(ROUTES.map((r, n) => [routeKey(r), r, n] as const))(
  'fuzzes %s: no 5xx, JSON errors, refused requests change nothing',
  async (key, route, n) => {
    const target = await targetFor(route, n);
    if (route.method === 'GET' && !route.path.includes('{') && route.path !== '/')
      target.cursorDigest = await digestOf(route.path);
    if (key === 'GET /builds/{id}/history')
      target.cursorDigest = await digestOf(`/builds/${target.params.id}/history`);
    const runs = SLOW_ROUTES.has(key) ? Math.max(1, Math.floor(RUNS / 4)) : RUNS;
    const paramArbs = Object.fromEntries(
      [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [
        name!,
        pathParam(target.params[name!] ?? 'x'),
      ]),
    );
    const cases = fc.sample(
      fc.record({
        params: fc.record(paramArbs as Record<string, fc.Arbitrary<string>>),
        query: query(route, target.cursorDigest),
        body: bodyFor(target.body),
        headers,
      }),
      { seed: SEED + n, numRuns: runs },
    );
    // What the table held before the next case: a refused case must leave it exactly so.
    let last = route.method === 'GET' ? undefined : await target.snapshot();
    for (const c of cases) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => c.params[name]!);
      const qs = new URLSearchParams(c.query).toString();
      const h: Record<string, string> = { ...c.headers.auth };
      if (c.headers.contentType) h['content-type'] = c.headers.contentType;
      if (c.headers.idempotencyKey !== undefined) h['idempotency-key'] = c.headers.idempotencyKey;
      if (c.headers.ifMatch !== undefined) h['if-match'] = c.headers.ifMatch;
      if (c.headers.leaseId !== undefined) h['x-lease-id'] = c.headers.leaseId;
      const res = await send(qs ? `${path}?${qs}` : path, route.method, c.body, h);
      const request = {
        path: (qs ? `${path}?${qs}` : path).slice(0, 300),
        body: c.body?.slice(0, 300),
        headers: h,
      };
      const response = res.json ?? res.raw.slice(0, 300);
      if (res.status >= 500)
        problems.push({ route: key, kind: '5xx', status: res.status, request, response });
      else if (
        res.status >= 400 &&
        !(
          isErrorShape(res.json) &&
          res.contentType.startsWith('application/json') &&
          res.nosniff === 'nosniff' &&
          res.raw.endsWith('\n')
        )
      )
        problems.push({ route: key, kind: 'error shape', status: res.status, request, response });
      if (route.method !== 'GET') {
        const after = await target.snapshot();
        if (
          res.status >= 400 &&
          JSON.stringify(after) !== JSON.stringify(last) &&
          !unverifiedByDesign(key, res.json, last, after)
        )
          problems.push({
            route: key,
            kind: 'changed',
            status: res.status,
            request,
            response: { response, before: last, after },
          });
        last = after;
      }
    }
    casesPerRoute.set(key, cases.length);
    const mine = problems.filter((p) => p.route === key);
    expect(mine.slice(0, 3)).toEqual([]);
  },
  180_000,
);

afterAll(() => {
  const total = [...casesPerRoute.values()].reduce((a, b) => a + b, 0);
  const by = (kind: Problem['kind']) => problems.filter((p) => p.kind === kind).length;
  console.log(
    `fuzz: ${casesPerRoute.size} routes, ${total} cases (${RUNS} per route, ${Math.max(1, Math.floor(RUNS / 4))} for ${[...SLOW_ROUTES].join(', ')}), seed ${SEED}; ` +
      `5xx: ${by('5xx')}, bad error shape: ${by('error shape')}, refused but changed: ${by('changed')}` +
      (problems.length
        ? `\n${[...new Set(problems.map((p) => `${p.kind} ${p.status} ${p.route}`))].join('\n')}`
        : ''),
  );
});

import { parseArgs } from 'node:util';
import { COMMANDS } from '../../../cli/commands';
import { canonicalJson, forkKey, parseChildSpec } from '../../../cli/fan-out';

describe('--child key=value,…', () => {
  it('reads the fields, and dotted metadata keys into metadata', () => {
    expect(parseChildSpec('platform_id=aws-us-east-1,metadata.region=us-east-1,id=ami-use1')).toEqual({
      platform_id: 'aws-us-east-1',
      id: 'ami-use1',
      metadata: { region: 'us-east-1' },
    });
    expect(parseChildSpec('platform_id=gcp,metadata.labels.tier=web,metadata.labels.team=img')).toEqual({
      platform_id: 'gcp',
      metadata: { labels: { tier: 'web', team: 'img' } },
    });
  });

  it('keeps an escaped comma and anything after the first = in a value', () => {
    expect(parseChildSpec('platform_id=azure,description=eu\\, the second region,metadata.q=a=b')).toEqual({
      platform_id: 'azure',
      description: 'eu, the second region',
      metadata: { q: 'a=b' },
    });
  });

  it.each([
    ['', /is empty/],
    ['platform_id=aws,metadata.region', /'metadata.region' is not key=value/],
    ['metadata.region=us-east-1', /platform_id is required/],
    ['platform_id=aws,region=us-east-1', /unknown field 'region'; fields: id, platform_id/],
    ['platform_id=aws,platform_id=gcp', /platform_id is given twice/],
    ['platform_id=', /platform_id has no value/],
    ['platform_id=aws,metadata.a=1,metadata.a.b=2', /metadata.a is already a value/],
    ['platform_id=aws,metadata.__proto__=x', /'__proto__' cannot be a metadata key/],
    ['platform_id=aws,metadata..x=1', /is not a field name/],
  ])('refuses %j as a usage error (exit 2)', (spec, message) => {
    let error: { exitCode?: number; message?: string } = {};
    try {
      parseChildSpec(spec);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
  });
});

describe('repeatable options', () => {
  it('declares --child repeatable and node parseArgs gives every value in order', () => {
    const fork = COMMANDS.find((c) => c.path.join(' ') === 'build fork')!;
    expect(fork.options?.child).toMatchObject({ type: 'string', multiple: true });
    const { values } = parseArgs({
      args: ['--child', 'platform_id=a', '--at', '50', '--child', 'platform_id=b'],
      options: { child: { type: 'string', multiple: true }, at: { type: 'string' } },
    });
    expect(values.child).toEqual(['platform_id=a', 'platform_id=b']);
  });
});

describe('the derived Idempotency-Key of a fork', () => {
  const body = { at_state: 50, children: [{ platform_id: 'aws', metadata: { region: 'us-east-1', n: 1 } }] };

  it('is the same for the same parent and request, whatever the order of keys', () => {
    const reordered = {
      children: [{ metadata: { n: 1, region: 'us-east-1' }, platform_id: 'aws' }],
      at_state: 50,
    };
    expect(canonicalJson(reordered)).toBe(canonicalJson(body));
    expect(forkKey('base', reordered)).toBe(forkKey('base', body));
    expect(forkKey('base', body)).toMatch(/^bldst-fork-[0-9a-f]{40}$/);
  });

  it('differs for another parent, state or child', () => {
    const keys = new Set([
      forkKey('base', body),
      forkKey('base2', body),
      forkKey('base', { ...body, at_state: 40 }),
      forkKey('base', { at_state: 50, children: [{ platform_id: 'gcp' }] }),
    ]);
    expect(keys.size).toBe(4);
  });
});

describe('bldst build fork (the command, against a recording client)', () => {
  const fork = COMMANDS.find((c) => c.path.join(' ') === 'build fork')!;
  const sent: { method: string; path: string; body: unknown; headers: Record<string, string> }[] = [];
  const client = {
    async requestWithHeaders(method: string, path: string, body: unknown, headers: Record<string, string>) {
      sent.push({ method, path, body, headers });
      const children = (body as { children: { id?: string; platform_id: string }[] }).children.map(
        (c, n) => ({
          id: c.id ?? `f1-00${n + 1}`,
          platform_id: c.platform_id,
          parent_id: 'base',
          status: 'in_progress',
        }),
      );
      return {
        body: { parent_id: 'base', fork_id: 'f1', at_state: 50, parent_version: 6, children },
        headers: {},
      };
    },
  };
  const ctx = (quiet: boolean) =>
    ({
      output: 'json',
      outputAsked: true,
      quiet,
      wide: false,
      style: { color: false, width: 80 },
      client: () => client,
    }) as never;
  let out: string;
  let err: string;
  beforeEach(() => {
    sent.length = 0;
    out = '';
    err = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((t) => {
      out += String(t);
      return true;
    });
    jest.spyOn(process.stderr, 'write').mockImplementation((t) => {
      err += String(t);
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('sends the children of every --child under a key derived from the request, and prints the ids with -q', async () => {
    const values = {
      at: '50',
      child: ['platform_id=aws,metadata.region=us-east-1', 'platform_id=gcp,id=g1'],
    };
    expect(await fork.run(ctx(true), values, ['base'], [])).toBe(0);
    const body = {
      at_state: 50,
      children: [
        { platform_id: 'aws', metadata: { region: 'us-east-1' } },
        { platform_id: 'gcp', id: 'g1' },
      ],
    };
    expect(sent).toEqual([
      {
        method: 'POST',
        path: '/builds/base/fork',
        body,
        headers: { 'idempotency-key': forkKey('base', body) },
      },
    ]);
    expect(out).toBe('f1-001\ng1\n');
    expect(err).toBe('');
  });

  it('uses the --idempotency-key given, and says which on stderr', async () => {
    await fork.run(
      ctx(false),
      { at: '50', child: ['platform_id=aws'], 'idempotency-key': 'ci-42' },
      ['base'],
      [],
    );
    expect(sent[0]!.headers).toEqual({ 'idempotency-key': 'ci-42' });
    expect(err).toBe('forked base at 50: 1 children (fork f1, Idempotency-Key ci-42)\n');
    expect(JSON.parse(out)).toMatchObject({ fork_id: 'f1', children: [{ id: 'f1-001' }] });
  });

  it('refuses before any request when --at or the children are missing', async () => {
    await expect(fork.run(ctx(false), { child: ['platform_id=aws'] }, ['base'], [])).rejects.toMatchObject({
      exitCode: 2,
    });
    await expect(fork.run(ctx(false), { at: '50' }, ['base'], [])).rejects.toMatchObject({ exitCode: 2 });
    await expect(
      fork.run(ctx(false), { at: '101', child: ['platform_id=aws'] }, ['base'], []),
    ).rejects.toMatchObject({
      exitCode: 2,
    });
    expect(sent).toEqual([]);
  });
});

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

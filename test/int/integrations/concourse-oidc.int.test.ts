/**
 * The Concourse resource signs in with a token of Concourse's idtoken var source
 * (`source.oidc_token`) instead of an API key, and `out` takes the build from `source.build_id`
 * when the params name only the state (the seeds' `put: state-store`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConcourse } from '../../helpers/cli';
import { type LocalIssuer, startLocalIssuer } from '../../helpers/oidc-issuer';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';
import { runTool } from '../../helpers/tools';

const root = join(__dirname, '..', '..', '..');
const resource = join(root, 'integrations', 'concourse', 'opt', 'resource');
const work = mkdtempSync(join(tmpdir(), 'bs-concourse-oidc-'));
let stack: TestStack;
let idp: LocalIssuer;

// Concourse's idtoken var source: sub is team/pipeline, aud what the var source names.
const CLAIMS = { sub: 'main/rhel9', team: 'main', pipeline: 'rhel9' };
const AUDIENCE = 'buildstate-concourse';

beforeAll(async () => {
  buildConcourse();
  [stack, idp] = await Promise.all([startTestStack(), startLocalIssuer()]);
  const res = await stack.call('POST', '/trust-policies', {
    id: 'concourse-rhel9',
    issuer: idp.issuer,
    audience: AUDIENCE,
    claims: { sub: 'main/rhel9' },
    scopes: ['write'],
  });
  expect(res.status).toBe(201);
}, 60_000);
afterAll(() => Promise.all([stack.stop(), idp.stop()]));

const step = (script: 'check' | 'out', payload: unknown, args: string[] = []) =>
  runTool(join(resource, script), args, {
    input: JSON.stringify(payload),
    env: {
      PATH: process.env.PATH ?? '',
      BUILD_ID: '4100',
      BUILD_PIPELINE_NAME: 'rhel9',
      BUILD_JOB_NAME: 'bake',
    },
  });

describe('Concourse resource with an OIDC token', () => {
  it('out: state params only, the build from source.build_id, signed in with source.oidc_token', async () => {
    const build = await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' });
    expect(build.status).toBe(201);
    const source = {
      api_url: stack.url,
      oidc_token: await idp.sign(CLAIMS, { audience: AUDIENCE }),
      build_id: build.body.id,
    };
    const put = await step(
      'out',
      { source, params: { state_code: 10, status: 'completed', message: 'kickstart done' } },
      [work],
    );
    expect(put.stderr).not.toMatch(/error/);
    expect(put.code).toBe(0);
    expect(JSON.parse(put.stdout).version).toMatchObject({ build_id: build.body.id, state_code: '10' });
    const history = (await stack.call('GET', `/builds/${build.body.id}/history`)).body.items as {
      actor: string;
      state_code: number;
    }[];
    expect(history.find((h) => h.state_code === 10)?.actor).toBe('oidc:concourse-rhel9:main/rhel9');
    const versions = await step('check', { source });
    expect(versions.code).toBe(0);
    expect(JSON.parse(versions.stdout)).toEqual([
      expect.objectContaining({ build_id: build.body.id, state_code: '10' }),
    ]);
  });

  it('out without build_id anywhere still says what is missing', async () => {
    const put = await step(
      'out',
      {
        source: { api_url: stack.url, api_key: ADMIN_KEY, state_code: 10 },
        params: { state_code: 10, status: 'completed' },
      },
      [work],
    );
    expect(put.code).toBe(1);
    expect(put.stderr).toMatch(/params need build_id or build_id_file \(or set build_id in source\)/);
  });

  it('refuses a source with both or neither credential, and a token no policy trusts', async () => {
    const both = await step('check', {
      source: { api_url: stack.url, api_key: ADMIN_KEY, oidc_token: 'x', build_id: 'b' },
    });
    expect(both.stderr).toMatch(/source needs api_key, or oidc_token/);
    const neither = await step('check', { source: { api_url: stack.url, build_id: 'b' } });
    expect(neither.stderr).toMatch(/source needs api_key, or oidc_token/);
    const foreign = await step('check', {
      source: {
        api_url: stack.url,
        oidc_token: await idp.sign(CLAIMS, { audience: 'elsewhere' }),
        build_id: 'b',
      },
    });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/refused: .*\(audience\)/);
  });
});

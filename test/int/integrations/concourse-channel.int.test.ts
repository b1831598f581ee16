/**
 * The Concourse resource's `CHANNEL` mode (integrations/concourse/src/channel.ts): check
 * and in run as a worker runs them — JSON on stdin — against the
 * local stack: a version per assignment, so a downstream job triggers on promotion, and a revoked
 * build's image never handed on.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildConcourse } from '../../helpers/cli';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';
import { runTool, type ToolResult } from '../../helpers/tools';

const root = resolve(__dirname, '../../..');
const resource = join(root, 'integrations', 'concourse', 'opt', 'resource');
let stack: TestStack;

beforeAll(async () => {
  buildConcourse();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

const step = (script: 'check' | 'in', payload: unknown, args: string[] = []): Promise<ToolResult> =>
  runTool(join(resource, script), args, {
    input: JSON.stringify(payload),
    env: { PATH: process.env.PATH ?? '' },
  });
async function ok(result: Promise<ToolResult>) {
  const r = await result;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const CHANNEL = 'rhel9-base-prod';
const src = () => ({ api_url: stack.url, api_key: ADMIN_KEY, channel: CHANNEL });

async function completedWithImage(id: string, ami: string) {
  expect(
    (await stack.call('POST', '/builds', { id, platform_id: 'aws', image_type_id: 'rhel9' })).status,
  ).toBe(201);
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 100, status: 'completed' })).status,
  ).toBe(201);
  expect(
    (await stack.call('POST', `/builds/${id}/images`, { cloud: 'aws', region: 'us-east-1', image_id: ami }))
      .status,
  ).toBe(201);
}

describe('CHANNEL', () => {
  it('check emits one version per assignment; in hands out the image; a revoked build fails in with the reason', async () => {
    expect(await ok(step('check', { source: src() }))).toEqual([]);
    await completedWithImage('cc-1', 'ami-0001');
    await completedWithImage('cc-2', 'ami-0002');
    await stack.call('PUT', `/channels/${CHANNEL}`, { build_id: 'cc-1' });
    const first = await ok(step('check', { source: src() }));
    expect(first).toEqual([{ channel: CHANNEL, assignment: '1', build_id: 'cc-1' }]);
    await stack.call('PUT', `/channels/${CHANNEL}`, { build_id: 'cc-2', reason: 'monthly patch' });
    // The version Concourse has, and every newer one: the promotion triggers the downstream job.
    const next = await ok(step('check', { source: src(), version: first[0] }));
    expect(next.map((v: { assignment: string }) => v.assignment)).toEqual(['1', '2']);
    expect(await ok(step('check', { source: src() }))).toEqual([next[1]]);
    // An unknown version: start again from the latest.
    expect(
      await ok(
        step('check', {
          source: src(),
          version: { channel: CHANNEL, assignment: '9', build_id: 'x' },
        }),
      ),
    ).toEqual([next[1]]);

    const dest = mkdtempSync(join(tmpdir(), 'bs-cc-in-'));
    const got = await ok(
      step('in', { source: src(), version: next[1], params: { cloud: 'aws', region: 'us-east-1' } }, [dest]),
    );
    expect(got.version).toEqual(next[1]);
    expect(got.metadata).toEqual(expect.arrayContaining([{ name: 'reason', value: 'monthly patch' }]));
    expect(readFileSync(join(dest, 'image_id'), 'utf8')).toBe('ami-0002\n');
    expect(JSON.parse(readFileSync(join(dest, 'images.json'), 'utf8'))).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dest, 'channel.json'), 'utf8'))).toMatchObject({
      build_id: 'cc-2',
      previous_build_id: 'cc-1',
    });
    // The older assignment's image too, while nothing revokes it.
    const older = mkdtempSync(join(tmpdir(), 'bs-cc-in-'));
    await ok(step('in', { source: src(), version: next[0], params: { region: 'us-east-1' } }, [older]));
    expect(readFileSync(join(older, 'image_id'), 'utf8')).toBe('ami-0001\n');

    await stack.call('POST', '/builds/cc-1/revoke', { reason: 'CVE-2026-9999' });
    await stack.call('POST', '/builds/cc-2/revoke', { reason: 'CVE-2026-9999' });
    for (const version of next) {
      const refused = await step('in', { source: src(), version }, [
        mkdtempSync(join(tmpdir(), 'bs-cc-in-')),
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('revoked');
      expect(refused.stderr).toContain('CVE-2026-9999');
    }
    // Bad configuration: one clear line, non-zero exit.
    const bad = await step('check', { source: { ...src(), channel: 'Not A Slug' } });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('channel');
  });
});

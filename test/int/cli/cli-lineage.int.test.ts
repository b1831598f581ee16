/**
 * Images, channels and revocation through the real `bldst` binary against the local stack: the
 * commands a platform team runs to promote and to revoke, a Packer manifest's images recorded
 * with `artifact add --packer-manifest`, and the exit codes scripts rely on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const { run: bldst } = cliRunner(() => stack.url);

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

const json = (r: CliResult) => JSON.parse(r.stdout);
const ok = async (args: string[]) => {
  const r = await bldst(args);
  if (r.code !== 0) throw new Error(`bldst ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return r;
};

describe('bldst image, channel and build revoke', () => {
  it('promotes a build, hands out its AMI to scripts, and refuses it once revoked (exit 3 with the reason)', async () => {
    const base = (
      await ok(['build', 'create', '--platform', 'aws', '--image-type', 'rhel9', '--id', 'cli-base', '-q'])
    ).stdout.trim();
    expect(base).toBe('cli-base');
    await ok(['build', 'add-state', base, '--state', '100', '--status', 'completed', '-q']);
    // Packer's manifest post-processor: one amazon-ebs build in two regions.
    const dir = mkdtempSync(join(tmpdir(), 'bs-manifest-'));
    const manifest = join(dir, 'packer-manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        builds: [
          {
            name: 'rhel9',
            builder_type: 'amazon-ebs',
            build_time: 1,
            files: null,
            artifact_id: 'us-east-1:ami-0east,eu-west-1:ami-0west',
            packer_run_uuid: 'run-1',
            custom_data: null,
          },
        ],
        last_run_uuid: 'run-1',
      }),
    );
    const added = await ok([
      'artifact',
      'add',
      base,
      '--state',
      '100',
      '--packer-manifest',
      manifest,
      '-o',
      'json',
    ]);
    expect(json(added)).toHaveLength(2);
    expect(added.stderr).toContain('recorded 2 image(s)');
    // Again: nothing new, no error, nothing said.
    const again = await ok([
      'artifact',
      'add',
      base,
      '--state',
      '100',
      '--packer-manifest',
      manifest,
      '-o',
      'json',
    ]);
    expect(again.stderr).toBe('');
    const images = json(await ok(['image', 'list', base, '-o', 'json']));
    expect(
      images.map((i: { region: string; image_id: string }) => `${i.region}:${i.image_id}`).sort(),
    ).toEqual(['eu-west-1:ami-0west', 'us-east-1:ami-0east']);
    await ok([
      'image',
      'add',
      base,
      '--cloud',
      'gcp',
      '--region',
      'global',
      '--image-id',
      'rhel9-cli-base',
      '-q',
    ]);

    await ok(['channel', 'set', 'rhel9-base-prod', base, '--reason', 'passed CIS scan']);
    const ami = await ok([
      'channel',
      'get',
      'rhel9-base-prod',
      '--cloud',
      'aws',
      '--region',
      'us-east-1',
      '-q',
    ]);
    expect(ami.stdout).toBe('ami-0east\n');
    expect((await ok(['channel', 'get', 'rhel9-base-prod', '-q'])).stdout).toBe('cli-base\n');
    const shown = json(await ok(['channel', 'get', 'rhel9-base-prod', '-o', 'json']));
    expect(shown).toMatchObject({
      name: 'rhel9-base-prod',
      build_id: base,
      reason: 'passed CIS scan',
      version: 1,
    });
    expect(shown.images).toHaveLength(3);
    expect((await ok(['channel', 'list', '-q'])).stdout).toContain('rhel9-base-prod\n');

    // A build on it, then the base is revoked: both are refused, the reason on stderr, exit 3.
    await ok([
      'build',
      'create',
      '--platform',
      'aws',
      '--image-type',
      'rhel9',
      '--id',
      'cli-app',
      '--base-build-id',
      base,
      '-q',
    ]);
    const lineage = json(await ok(['build', 'lineage', 'cli-app', '-o', 'json']));
    expect(lineage.ancestors.map((a: { build_id: string }) => a.build_id)).toEqual([base]);
    const revoked = await ok(['build', 'revoke', base, '--reason', 'CVE-2026-1234 in openssl', '-o', 'json']);
    expect(json(revoked)).toMatchObject({ descendants: 1, newly_revoked: 2 });
    const refused = await bldst([
      'channel',
      'get',
      'rhel9-base-prod',
      '--cloud',
      'aws',
      '--region',
      'us-east-1',
      '-q',
    ]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('revoked');
    expect(refused.stderr).toContain('CVE-2026-1234 in openssl');
    const onRevoked = await bldst([
      'build',
      'create',
      '--platform',
      'aws',
      '--image-type',
      'rhel9',
      '--base-build-id',
      'cli-app',
    ]);
    expect(onRevoked.code).toBe(3);
    expect((await bldst(['channel', 'set', 'rhel9-base-prod', 'cli-app'])).code).toBe(3);
    // Revoking again is fine (exit 0); the table shows both revoked.
    expect((await bldst(['build', 'revoke', base, '--reason', 'again'])).code).toBe(0);
    const table = await ok(['build', 'lineage', base, '-o', 'table']);
    expect(table.stdout).toContain('cli-app');
    expect(table.stdout).toContain('yes: CVE-2026-1234 in openssl');

    await ok(['build', 'restore', base, '--reason', 'patched in place']);
    expect(
      (await ok(['channel', 'get', 'rhel9-base-prod', '--cloud', 'aws', '--region', 'eu-west-1', '-q']))
        .stdout,
    ).toBe('ami-0west\n');
    const history = json(await ok(['channel', 'history', 'rhel9-base-prod', '-o', 'json']));
    expect(history.map((h: { build_id: string }) => h.build_id)).toEqual([base]);
  });

  it('exits with the documented codes on bad input', async () => {
    expect((await bldst(['channel', 'get', 'no-such-channel'])).code).toBe(4);
    expect((await bldst(['channel', 'get', 'Bad_Name!'])).code).toBe(2);
    expect((await bldst(['channel', 'set', 'x-prod', 'no-such-build'])).code).toBe(4);
    expect((await bldst(['build', 'revoke', 'no-such-build', '--reason', 'x'])).code).toBe(4);
    expect((await bldst(['build', 'revoke', 'cli-base'])).code).toBe(2);
    expect((await bldst(['image', 'add', 'cli-base', '--cloud', 'aws'])).code).toBe(2);
    const pending = (
      await ok(['build', 'create', '--platform', 'aws', '--image-type', 'rhel9', '-q'])
    ).stdout.trim();
    const early = await bldst(['channel', 'set', 'x-prod', pending]);
    expect(early.code).toBe(3);
    expect(early.stderr).toContain('not_completed');
  });
});

/**
 * bldst composed with tools that report their own states (Packer provisioners, Ansible plays):
 * the lease hand-down of `bldst run`, resumable `run --state`, and Packer manifests.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLDST_BIN, buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const { run: bldst, home } = cliRunner(() => stack.url);
const json = (r: CliResult) => JSON.parse(r.stdout);

// A `bldst` on PATH for the child processes, as on a build server.
const binDir = join(home, 'bin');
mkdirSync(binDir, { recursive: true });
writeFileSync(join(binDir, 'bldst'), `#!/bin/sh\nexec "${process.execPath}" "${BLDST_BIN}" "$@"\n`);
chmodSync(join(binDir, 'bldst'), 0o755);
const PATH = `${binDir}:${process.env.PATH ?? ''}`;

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

const newBuild = async () =>
  (await bldst(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel8', '-q'])).stdout.trim();

interface HistoryRow {
  state_code: number | null;
  status: string | null;
  worker_id: string | null;
}

describe('bldst run without --state', () => {
  it('holds the lease while a Packer-like child reports states 5, 10 and 15 under it', async () => {
    const id = await newBuild();
    // What a template's provisioners do: report through bldst, with no build id or lease of their own.
    const script = join(home, `provisioners-${id}.sh`);
    writeFileSync(
      script,
      [
        'set -e',
        'test -n "$BLDST_LEASE_ID"',
        'echo "$BLDST_BUILD_ID $BLDST_WORKER_ID" > "$OUT"',
        'bldst build update --state 5 --status in_progress',
        'bldst build update --state 5 --status completed --message "kickstart done"',
        'bldst run --state 10 -- sh -c \'echo "inner $BLDST_STATE $BLDST_LEASE_ID" >> "$OUT"\'',
        // An upload with no build id: the one handed down (CLI.md "What the command inherits").
        'printf "image bytes" > "$OUT.img"',
        'bldst artifact upload "$OUT.img" --state 10 --name img.raw -q',
        'bldst build update --state 15 --status completed --message "Packer provisioner completed"',
      ].join('\n'),
    );
    const out = join(home, `out-${id}`);
    const r = await bldst(['run', '--build', id, '--', 'sh', script], {
      env: { PATH, OUT: out, BLDST_WORKER_ID: 'packer-host-1' },
    });
    expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('holding the lease')]);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(`${id} packer-host-1`);
    expect(lines[1]).toMatch(/^inner 10 [0-9A-Z]{26}$/);

    const history: HistoryRow[] = json(await bldst(['build', 'history', id]));
    // The outer run reported nothing itself: only the child's six reports follow the creation.
    expect(history.map((h) => [h.state_code, h.status])).toEqual([
      [0, null],
      [5, 'in_progress'],
      [5, 'completed'],
      [10, 'in_progress'],
      [10, 'completed'],
      [15, 'completed'],
    ]);
    expect(new Set(history.slice(1).map((h) => h.worker_id))).toEqual(new Set(['packer-host-1']));
    expect((await stack.call('GET', `/builds/${id}/states/10/artifacts/img.raw`)).body).toMatchObject({
      verified: true,
      size_bytes: 11,
    });
    // One lease for the whole run (fence 1), released at the end.
    expect((await stack.call('GET', `/builds/${id}/lease`)).body).toMatchObject({
      lease: null,
      lease_fence: 1,
    });
  }, 30_000);

  it("passes the child's exit code through and keeps other workers out while it runs", async () => {
    const id = await newBuild();
    const marker = join(home, `hold-${id}`);
    const outer = bldst(['run', '--build', id, '--', 'sh', '-c', `touch ${marker}; sleep 1.5; exit 7`]);
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50));
    const bare = await bldst(['build', 'update', id, '--state', '5', '--status', 'in_progress']);
    expect([bare.code, bare.stderr]).toEqual([3, expect.stringContaining('lease_held')]);
    expect((await outer).code).toBe(7);
    expect(json(await bldst(['build', 'get', id]))).toMatchObject({ current_state: 0, status: 'pending' });
  });
});

describe('bldst run --state on a state that is done', () => {
  it('skips the command and exits 0, saying so', async () => {
    const id = await newBuild();
    expect((await bldst(['run', '--build', id, '--state', '10', '--', 'true'])).code).toBe(0);
    const marker = join(home, `skipped-${id}`);
    for (const state of ['10', '5']) {
      const again = await bldst(['run', '--build', id, '--state', state, '--', 'touch', marker]);
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(new RegExp(`state ${state}: skipped, .*; not running touch`));
    }
    expect(existsSync(marker)).toBe(false);
    const history: HistoryRow[] = json(await bldst(['build', 'history', id]));
    expect(history).toHaveLength(3);
    // A state after it runs as usual.
    expect((await bldst(['run', '--build', id, '--state', '15', '--', 'touch', marker])).code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('bldst artifact add --from-packer-manifest', () => {
  it("registers each region's image and each file of the manifest's last run", async () => {
    const id = await newBuild();
    expect((await bldst(['build', 'update', id, '--state', '15', '--status', 'completed'])).code).toBe(0);
    const dir = join(home, `packer-${id}`);
    mkdirSync(join(dir, 'output'), { recursive: true });
    writeFileSync(join(dir, 'output', 'disk.qcow2'), 'qcow2 bytes');
    const manifest = {
      builds: [
        {
          name: 'old',
          builder_type: 'amazon-ebs',
          build_time: 1,
          files: null,
          artifact_id: 'us-east-1:ami-0000000000000000',
          packer_run_uuid: 'run-1',
          custom_data: null,
        },
        {
          name: 'rhel',
          builder_type: 'amazon-ebs',
          build_time: 2,
          files: null,
          artifact_id: 'us-east-1:ami-0abc1234def567890,eu-west-1:ami-0fedcba9876543210',
          packer_run_uuid: 'run-2',
          custom_data: null,
        },
        {
          name: 'qemu',
          builder_type: 'qemu',
          build_time: 2,
          files: [{ name: 'output/disk.qcow2', size: 11 }],
          artifact_id: 'VM',
          packer_run_uuid: 'run-2',
          custom_data: null,
        },
      ],
      last_run_uuid: 'run-2',
    };
    writeFileSync(join(dir, 'packer-manifest.json'), JSON.stringify(manifest));
    const args = ['artifact', 'add', id, '--from-packer-manifest', 'packer-manifest.json', '--state', '15'];
    const r = await bldst(args, { cwd: dir });
    expect(r.code).toBe(0);
    expect(json(r).map((a: { name: string }) => a.name)).toEqual([
      'us-east-1.ami-0abc1234def567890',
      'eu-west-1.ami-0fedcba9876543210',
      'disk.qcow2',
    ]);
    // Registering again (a re-run of the post-processor step) changes nothing.
    const again = await bldst(args, { cwd: dir });
    expect([again.code, again.stderr]).toEqual([0, '']);

    const listed = json(await bldst(['artifact', 'list', id])).states[0].artifacts;
    expect(listed).toHaveLength(3);
    expect(listed.find((a: { name: string }) => a.name === 'eu-west-1.ami-0fedcba9876543210')).toMatchObject({
      storage_type: 'ebs',
      uri: 'ec2://eu-west-1/ami-0fedcba9876543210',
      checksum: null,
      metadata: { region: 'eu-west-1', image_id: 'ami-0fedcba9876543210', packer_builder: 'amazon-ebs' },
    });
    expect(listed.find((a: { name: string }) => a.name === 'disk.qcow2')).toMatchObject({
      uri: join(dir, 'output', 'disk.qcow2'),
      size_bytes: 11,
      checksum: `sha256:${createHash('sha256').update('qcow2 bytes').digest('hex')}`,
    });

    const missing = await bldst([
      'artifact',
      'add',
      id,
      '--from-packer-manifest',
      'nope.json',
      '--state',
      '15',
    ]);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      expect.stringMatching(/^bldst: cannot read nope\.json/),
    ]);
  });
});

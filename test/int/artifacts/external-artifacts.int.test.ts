/**
 * External pointers are artifacts too: an nfs pointer recorded by `build add-state --storage-type
 * nfs` is offered by resume (verified: false), read from the "mount" (a temp directory standing
 * for the NFS share) by `artifact download` and `pipeline run`, checked on the way, and verified
 * only with what a worker computed from the file.
 */

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const cli = cliRunner(() => stack.url);
beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

const sha = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

it('an nfs pointer: offered by resume, read from the mount with its checksum checked, verified from the file', async () => {
  const mount = mkdtempSync(join(tmpdir(), 'bs-nfs-mount-'));
  mkdirSync(join(mount, 'images'));
  const image = join(mount, 'images', 'image.qcow2');
  const bytes = 'qcow2 bytes on the filer\n'.repeat(1000);
  writeFileSync(image, bytes);
  const id = (
    await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  const added = await cli.run([
    'build',
    'add-state',
    id,
    '--state',
    '25',
    '--status',
    'completed',
    '--storage-type',
    'nfs',
    '--storage-path',
    image,
    '--checksum',
    sha(bytes),
  ]);
  expect(added.code).toBe(0);

  // resume offers it, marked as not verified.
  const resume = (await stack.call('GET', `/builds/${id}/resume`)).body;
  expect(resume.input_artifacts).toEqual([
    expect.objectContaining({ name: 'image.qcow2', storage_type: 'nfs', uri: image, verified: false }),
  ]);

  // artifact download reads it from the mount, checked.
  const work = mkdtempSync(join(tmpdir(), 'bs-nfs-work-'));
  const got = await cli.run([
    'artifact',
    'download',
    id,
    '--state',
    '25',
    '--name',
    'image.qcow2',
    '-O',
    join(work, 'copy.qcow2'),
  ]);
  expect(got.code).toBe(0);
  expect(readFileSync(join(work, 'copy.qcow2'), 'utf8')).toBe(bytes);

  // pipeline run hands it to the next step as its input.
  writeFileSync(
    join(work, 'p.yaml'),
    `steps:\n  - { state: 30, name: use, run: 'cmp "$BLDST_INPUT_ARTIFACT" ${image}' }\n`,
  );
  const run = await cli.run(['pipeline', 'run', join(work, 'p.yaml'), '--build', id, '--workdir', work]);
  expect(run.stderr).toContain('not verified yet, matches its registered checksum');
  expect(run.code).toBe(0);

  // verify computes what it claims from the file: the server records it.
  const verified = await cli.run([
    'artifact',
    'verify',
    id,
    '--state',
    '25',
    '--name',
    'image.qcow2',
    '--file',
    image,
    '-o',
    'json',
  ]);
  expect(verified.code).toBe(0);
  expect(JSON.parse(verified.stdout)).toMatchObject({
    verified: true,
    checksum: sha(bytes),
    size_bytes: bytes.length,
  });
  const blind = await cli.run(['artifact', 'verify', id, '--state', '25', '--name', 'image.qcow2']);
  expect(blind.stderr).toContain('checksum_required');
  expect(blind.code).toBe(3);

  // The file changes on the filer: download refuses it and leaves nothing; verify refuses it.
  writeFileSync(image, `${bytes}tampered`);
  const bad = await cli.run([
    'artifact',
    'download',
    id,
    '--state',
    '25',
    '--name',
    'image.qcow2',
    '-O',
    join(work, 'bad.qcow2'),
  ]);
  expect(bad.stderr).toContain(`checksum mismatch for image.qcow2 (${image})`);
  expect(bad.code).toBe(3);
  expect(readdirSync(work).filter((f) => f.startsWith('bad') || f.endsWith('.part'))).toEqual([]);
  const reverify = await cli.run([
    'artifact',
    'verify',
    id,
    '--state',
    '25',
    '--name',
    'image.qcow2',
    '--file',
    image,
  ]);
  expect(reverify.stderr).toContain('checksum_mismatch');
  expect(reverify.code).toBe(3);
}, 90_000);

it('a pointer this worker cannot read fails with what to mount', async () => {
  const id = (
    await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  await cli.run([
    'build',
    'add-state',
    id,
    '--state',
    '25',
    '--status',
    'completed',
    '--storage-type',
    'nfs',
    '--storage-path',
    '/mnt/not-mounted/image.qcow2',
    '--checksum',
    sha('x'),
  ]);
  const r = await cli.run([
    'artifact',
    'download',
    id,
    '--state',
    '25',
    '--name',
    'image.qcow2',
    '-O',
    join(cli.home, 'x'),
  ]);
  expect(r.stderr).toContain(
    "artifact 'image.qcow2' is on nfs at /mnt/not-mounted/image.qcow2, which this worker cannot read (ENOENT); mount the share here",
  );
  expect(r.code).toBe(2);
  const unmapped = await stack.call('POST', `/builds/${id}/states/25/artifacts`, {
    name: 'other.qcow2',
    storage_type: 'nfs',
    uri: 'nfs://filer01/images/other.qcow2',
    checksum: sha('y'),
  });
  expect(unmapped.status).toBe(201);
  const mount = mkdtempSync(join(tmpdir(), 'bs-nfs-map-'));
  writeFileSync(join(mount, 'other.qcow2'), 'y');
  const noMap = await cli.run([
    'artifact',
    'download',
    id,
    '--state',
    '25',
    '--name',
    'other.qcow2',
    '-O',
    join(cli.home, 'o'),
  ]);
  expect(noMap.stderr).toContain(
    "no local path for it; mount the share and map it, e.g. BLDST_NFS_MOUNTS='nfs://filer01/images=/mnt/share'",
  );
  const mapped = await cli.run(
    ['artifact', 'download', id, '--state', '25', '--name', 'other.qcow2', '-O', join(cli.home, 'o')],
    {
      env: { BLDST_NFS_MOUNTS: `nfs://filer01/images=${mount}` },
    },
  );
  expect(mapped.code).toBe(0);
  expect(readFileSync(join(cli.home, 'o'), 'utf8')).toBe('y');
}, 60_000);

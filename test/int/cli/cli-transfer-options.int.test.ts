/**
 * `--part-size` and the parts at once on `bldst run` (--parallel) and `bldst pipeline run`
 * (--transfer-parallel): checked as `artifact upload` checks them, before anything is reported,
 * and passed to the artifact uploads and downloads. The real CLI against DynamoDB Local and the
 * local S3 server, whose checksum front counts the multipart parts it stores.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiB } from '../../../lib/artifacts/upload-plan';
import { buildCli, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
let cli: ReturnType<typeof cliRunner>;

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
  cli = cliRunner(() => stack.url);
}, 60_000);
afterAll(() => stack.stop());

async function buildAt10(): Promise<string> {
  const { id } = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'x' })).body;
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' });
  return id as string;
}

/** The build and its whole history: what a refused command must leave as it was. */
async function snapshot(id: string) {
  const build = (await stack.call('GET', `/builds/${id}`)).body;
  const history = (await stack.call('GET', `/builds/${id}/history?limit=500`)).body.items;
  return { build, history };
}

const sha256 = (path: string) => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;

/** 12 MiB and a bit: 3 parts of 5 MiB (5 + 5 + 2), one PUT at the default 64 MiB. */
const TWELVE_MIB = 12 * MiB + 1000;

describe('bad transfer options on run and pipeline run', () => {
  it.each([
    [['--part-size', '1MiB'], /--part-size 1MiB: must be between 5MiB and 5GiB/],
    [['--part-size', '6GiB'], /--part-size 6GiB: must be between 5MiB and 5GiB/],
    [['--part-size', 'big'], /--part-size big: must be between 5MiB and 5GiB/],
    [['--parallel', '0'], /--parallel 0: must be a whole number from 1 to 64/],
    [['--parallel', '65'], /--parallel 65: must be a whole number from 1 to 64/],
    // A value starting with a dash gets the option's own message, not node's "ambiguous".
    [['--part-size', '-5MiB'], /--part-size -5MiB: must be between 5MiB and 5GiB/],
    [['--parallel', '-2'], /--parallel -2: must be a whole number from 1 to 64/],
  ])('run %j: exit 2, the command not run, no state reported', async (extra, message) => {
    const id = await buildAt10();
    const before = await snapshot(id);
    const work = mkdtempSync(join(tmpdir(), 'bs-xfer-'));
    const res = await cli.run(
      ['run', '--build', id, '--state', '20', '--artifact', 'out.raw', ...extra, '--', 'touch', 'ran'],
      { cwd: work },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(existsSync(join(work, 'ran'))).toBe(false);
    expect(await snapshot(id)).toEqual(before);
  });

  it.each([
    [['--part-size', '4MiB'], /--part-size 4MiB: must be between 5MiB and 5GiB/],
    [['--transfer-parallel', '0'], /--transfer-parallel 0: must be a whole number from 1 to 64/],
    [['--transfer-parallel', 'many'], /--transfer-parallel many: must be a whole number from 1 to 64/],
    [['--part-size', '-5MiB'], /--part-size -5MiB: must be between 5MiB and 5GiB/],
  ])('pipeline run %j: exit 2, no step run, no state reported', async (extra, message) => {
    const id = await buildAt10();
    const before = await snapshot(id);
    const work = mkdtempSync(join(tmpdir(), 'bs-xfer-'));
    writeFileSync(
      join(work, 'p.yaml'),
      'steps:\n  - state: 20\n    name: image\n    run: touch ran > image.raw\n    artifact: image.raw\n',
    );
    const res = await cli.run(['pipeline', 'run', 'p.yaml', '--build', id, ...extra], { cwd: work });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(existsSync(join(work, 'ran'))).toBe(false);
    expect(await snapshot(id)).toEqual(before);
  });
});

describe('artifact upload and download: one wording for --parallel and --part-size', () => {
  it.each([
    [['artifact', 'upload', 'B', 'f.raw', '--state', '20', '--parallel', '0'], '--parallel 0'],
    [['artifact', 'download', 'B', '--state', '20', '--name', 'f.raw', '--parallel', '0'], '--parallel 0'],
    [['artifact', 'upload', 'B', 'f.raw', '--state', '20', '--parallel', '-4'], '--parallel -4'],
    [['artifact', 'download', 'B', '--state', '20', '--name', 'f.raw', '--parallel', '-4'], '--parallel -4'],
    [['artifact', 'download', 'B', '--state', '20', '--name', 'f.raw', '--parallel', '65'], '--parallel 65'],
  ])('%j: exit 2, "%s: must be a whole number from 1 to 64"', async (args, said) => {
    const res = await cli.run(args);
    expect(res.stderr).toBe(`bldst: ${said}: must be a whole number from 1 to 64\n`);
    expect(res.code).toBe(2);
  });

  it('--part-size -5MiB and --part-size 4MiB get the same range message', async () => {
    for (const value of ['-5MiB', '4MiB']) {
      const res = await cli.run(['artifact', 'upload', 'B', 'f.raw', '--state', '20', '--part-size', value]);
      expect(res.stderr).toBe(
        `bldst: --part-size ${value}: must be between 5MiB and 5GiB (e.g. 8MiB, 64MiB, 1GiB, or bytes)\n`,
      );
      expect(res.code).toBe(2);
    }
  });
});

describe('a bad artifact name: the naming rule, whichever path the file would take', () => {
  it.each([
    ['a slash', 'a/b', "artifact name 'a/b'"],
    ['300 characters', 'n'.repeat(300), `artifact name '${'n'.repeat(40)}…' (300 characters)`],
  ])(
    '%s: the same message below and above the part size, exit 2, nothing registered',
    async (_label, name, said) => {
      const id = await buildAt10();
      const before = await snapshot(id);
      const work = mkdtempSync(join(tmpdir(), 'bs-xfer-'));
      writeFileSync(join(work, 'small.raw'), Buffer.alloc(1000, 1));
      writeFileSync(join(work, 'big.raw'), Buffer.alloc(6 * MiB, 1));
      const parts = stack.s3.stats.parts;
      const answers = [];
      for (const file of ['small.raw', 'big.raw']) {
        answers.push(
          await cli.run(
            ['artifact', 'upload', id, file, '--state', '10', '--name', name, '--part-size', '5MiB'],
            { cwd: work },
          ),
        );
      }
      const rule =
        'must be a file name of 1-200 characters: letters, digits and . _ + - (no slashes), starting with a letter or digit';
      for (const res of answers) {
        expect(res.stderr).toBe(`bldst: ${said}: ${rule}\n`);
        expect(res.code).toBe(2);
      }
      expect(stack.s3.stats.parts).toBe(parts);
      expect(await snapshot(id)).toEqual(before);
      expect((await stack.call('GET', `/builds/${id}/artifacts`)).body.states).toEqual([]);
    },
  );
});

describe('--part-size reaches the uploads', () => {
  it('run --artifact with --part-size 5MiB sends a 12 MiB file as 3 parts; without it, one PUT', async () => {
    const id = await buildAt10();
    const work = mkdtempSync(join(tmpdir(), 'bs-xfer-'));
    writeFileSync(join(work, 'image.raw'), Buffer.alloc(TWELVE_MIB, 7));
    const parts = stack.s3.stats.parts;
    const res = await cli.run(
      [
        'run',
        '--build',
        id,
        '--state',
        '20',
        '--artifact',
        'image.raw',
        '--part-size',
        '5MiB',
        '--parallel',
        '2',
        '--',
        'true',
      ],
      { cwd: work },
    );
    expect(res.stderr).toMatch(/state 20: artifact image\.raw uploaded and verified/);
    expect(res.code).toBe(0);
    expect(stack.s3.stats.parts - parts).toBe(3);
    const artifact = (await stack.call('GET', `/builds/${id}/states/20/artifacts/image.raw`)).body;
    expect(artifact).toMatchObject({
      verified: true,
      size_bytes: TWELVE_MIB,
      checksum: sha256(join(work, 'image.raw')),
    });

    // The control: the same file at the default part size (64 MiB) is one PUT, no parts.
    const other = await buildAt10();
    const partsBefore = stack.s3.stats.parts;
    const plain = await cli.run(
      ['run', '--build', other, '--state', '20', '--artifact', 'image.raw', '--', 'true'],
      { cwd: work },
    );
    expect(plain.code).toBe(0);
    expect(stack.s3.stats.parts - partsBefore).toBe(0);
    expect((await stack.call('GET', `/builds/${other}/states/20/artifacts/image.raw`)).body).toMatchObject({
      verified: true,
      checksum: artifact.checksum,
    });
  }, 60_000);

  it('pipeline run --part-size 5MiB uploads a step output in 3 parts; the next step gets it back whole', async () => {
    const id = await buildAt10();
    const work = mkdtempSync(join(tmpdir(), 'bs-xfer-'));
    writeFileSync(
      join(work, 'p.yaml'),
      [
        'steps:',
        '  - state: 20',
        '    name: image',
        `    run: head -c ${TWELVE_MIB} /dev/urandom > image.raw`,
        '    artifact: image.raw',
        '  - state: 30',
        '    name: convert',
        '    run: sha256sum "$BLDST_INPUT_ARTIFACT" > input.sha',
        '',
      ].join('\n'),
    );
    const parts = stack.s3.stats.parts;
    const res = await cli.run(
      ['pipeline', 'run', 'p.yaml', '--build', id, '--part-size', '5MiB', '--transfer-parallel', '2'],
      // Ranges of 1 MiB: the input comes back in 13 ranged GETs, 2 at a time.
      { cwd: work, env: { BLDST_DOWNLOAD_RANGE_BYTES: String(MiB) } },
    );
    expect(res.stderr).toMatch(/step 2 of 2: 30 convert: completed/);
    expect(res.code).toBe(0);
    expect(stack.s3.stats.parts - parts).toBe(3);
    const artifact = (await stack.call('GET', `/builds/${id}/states/20/artifacts/image.raw`)).body;
    expect(artifact).toMatchObject({
      verified: true,
      size_bytes: TWELVE_MIB,
      checksum: sha256(join(work, 'image.raw')),
    });
    // What step 30 read is the bytes step 20 wrote.
    expect(`sha256:${readFileSync(join(work, 'input.sha'), 'utf8').split(' ')[0]}`).toBe(artifact.checksum);
  }, 60_000);
});

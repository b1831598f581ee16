/**
 * The mistakes a new user makes, through the real `bldst` against the local stack: a mistyped
 * command, option or value gets the nearest right one; a state the catalog lacks is recorded with
 * a warning naming the nearest codes; a missing local file is exit 2 with its path; text longer
 * than the server keeps is cut with a marker and a warning instead of losing the whole report.
 */
import { buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const { run: bldst } = cliRunner(() => stack.url);
let id: string;

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
  expect((await stack.call('POST', '/projects', { id: 'mistakes', name: 'Mistakes' })).status).toBe(201);
  const codes = [0, 10, 40, 45, 50, 100].map((code) => ({ code, name: `step-${code}` }));
  expect((await stack.call('PUT', '/projects/mistakes/state-codes', codes)).status).toBe(200);
  id = await newBuild();
}, 60_000);
afterAll(() => stack.stop());

const said = (r: CliResult) => [r.code, r.stderr];

async function newBuild(): Promise<string> {
  const created = await bldst([
    'build',
    'create',
    '--project-id',
    'mistakes',
    '--platform-id',
    'aws',
    '--image-type-id',
    'rhel9',
    '-q',
  ]);
  expect(said(created)).toEqual([0, '']);
  return created.stdout.trim();
}

describe('did you mean', () => {
  it('names the nearest command, option and value, exit 2', async () => {
    expect(said(await bldst(['biuld', 'list']))).toEqual([
      2,
      "bldst: unknown command 'biuld'; did you mean 'build'? See bldst --help\n",
    ]);
    expect(said(await bldst(['build', 'lsit']))).toEqual([
      2,
      "bldst: unknown command 'build lsit'; did you mean 'build list'? See bldst build --help\n",
    ]);
    expect(said(await bldst(['build', 'add-state', id, '--stat', '45', '--status', 'completed']))).toEqual([
      2,
      "bldst: unknown option --stat for bldst build add-state; did you mean '--state' or '--status'? See bldst build add-state --help\n",
    ]);
    expect(said(await bldst(['build', 'add-state', id, '--state', '45', '--status', 'complete']))).toEqual([
      2,
      "bldst: --status must be one of in_progress, completed, failed, not 'complete'; did you mean 'completed'?\n",
    ]);
    expect(said(await bldst(['build', 'list', '--status', 'in-progress']))).toEqual([
      2,
      expect.stringContaining("did you mean 'in_progress'?"),
    ]);
    expect(
      said(await bldst(['artifact', 'add', id, '--state', '10', '--name', 'x', '--storage-type', 's4'])),
    ).toEqual([
      2,
      "bldst: --storage-type must be one of s3, nfs, ebs, ceph, azure_blob, gcs, http, other, not 's4'; did you mean 's3'?\n",
    ]);
    // Nothing was recorded by any of them.
    expect((await stack.call('GET', `/builds/${id}`)).body.version).toBe(1);
  });
});

describe('a state the catalog lacks', () => {
  it('is recorded (inserts stay allowed) with a warning naming the nearest codes', async () => {
    const r = await bldst(['build', 'add-state', id, '--state', '43', '--status', 'in_progress', '-q']);
    expect(said(r)).toEqual([
      0,
      "bldst: warning: state 43 is not in project mistakes's catalog (nearest: 40 step-40, 45 step-45); recorded as an inserted state. See bldst state-codes get mistakes\n",
    ]);
    expect((await stack.call('GET', `/builds/${id}`)).body.current_state).toBe(43);
    const known = await bldst(['build', 'add-state', id, '--state', '43', '--status', 'completed', '-q']);
    expect(known.stderr).toContain('state 43 is not in');
    const listed = await bldst(['build', 'add-state', id, '--state', '45', '--status', 'in_progress', '-q']);
    expect(said(listed)).toEqual([0, '']);
  });
});

describe('a missing local file', () => {
  it('is exit 2 naming the path, not a server error', async () => {
    const fresh = await newBuild();
    const r = await bldst([
      'run',
      '--build',
      fresh,
      '--state',
      '10',
      '--artifact',
      'out/image.qcow2',
      '--',
      'true',
    ]);
    expect(said(r)).toEqual([2, expect.stringContaining('out/image.qcow2')]);
    expect(r.stderr).toMatch(/bldst: cannot read out\/image\.qcow2: no such file\n$/);
    const upload = await bldst(['artifact', 'upload', fresh, 'out/missing.img', '--state', '10']);
    expect(said(upload)).toEqual([2, 'bldst: cannot read out/missing.img: no such file\n']);
  });
});

describe('text longer than the server keeps', () => {
  it('sends a 20 kB --message cut with a marker, and warns', async () => {
    const message = `start ${'m'.repeat(20_000)} end`;
    const r = await bldst([
      'build',
      'add-state',
      id,
      '--state',
      '50',
      '--status',
      'in_progress',
      '--message',
      message,
      '-q',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^bldst: warning: --message is 20010 characters, more than the 2000 the server keeps/,
    );
    const history = (await stack.call('GET', `/builds/${id}/history?limit=500`)).body.items;
    const kept = history.at(-1).message as string;
    expect(kept.length).toBeLessThanOrEqual(2000);
    expect(kept).toMatch(/^start m+\n… \[\d+ characters cut by bldst\] …\nm+ end$/);
  });

  it("keeps run's `exit code N` header when it trims a long stderr", async () => {
    const fresh = await newBuild();
    const r = await bldst([
      'run',
      '--build',
      fresh,
      '--state',
      '10',
      '--',
      'sh',
      '-c',
      'for i in $(seq 1 400); do echo "log line $i of a long failing step, padded to be long enough" >&2; done; exit 7',
    ]);
    expect(said(r)).toEqual([7, expect.anything()]);
    const build = (await stack.call('GET', `/builds/${fresh}`)).body;
    expect(build.last_error.length).toBeLessThanOrEqual(8192);
    expect(build.last_error.split('\n')[0]).toBe('exit code 7');
    expect(build.last_error).toMatch(/log line 400 of a long failing step, padded to be long enough$/);
  });
});

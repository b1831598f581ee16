/**
 * A download URL that expires during a slow transfer is renewed, never a failed build (issue 26,
 * item 8): presigned URLs live 2 s here (BUILDSTATE_PRESIGN_EXPIRY_S) and a forward proxy caps
 * the connection at 1 MiB/s, so with 1 MiB ranges fetched one at a time the fourth range (at 3 s
 * at the earliest) is asked for with an expired URL. S3's XML never reaches the terminal. The
 * same renewal serves `artifact download`, `pipeline run`'s input fetch and the Concourse `in`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../../lib/config/env';
import { buildCli, buildConcourse, cliRunner } from '../../helpers/cli';
import { type ForwardProxy, startForwardProxy } from '../../helpers/forward-proxy';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';
import { runTool } from '../../helpers/tools';

process.env[ENV.presignExpirySeconds] = '2';

const MiB = 1024 * 1024;
let stack: TestStack;
let slow: ForwardProxy;
let slower: ForwardProxy;
const cli = cliRunner(() => stack.url);

beforeAll(async () => {
  buildCli();
  buildConcourse();
  stack = await startTestStack();
  slow = await startForwardProxy({ bytesPerSecond: MiB });
  slower = await startForwardProxy({ bytesPerSecond: 128 * 1024 });
}, 60_000);
afterAll(async () => {
  await slow?.stop();
  await slower?.stop();
  await stack?.stop();
});

/** A build whose state 25 holds slow.raw (4 MiB of random bytes). */
async function builtImage() {
  const id = (
    await cli.run(['build', 'create', '--platform-id', 'aws', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 25, status: 'in_progress' })).status,
  ).toBe(201);
  const bytes = randomBytes(4 * MiB);
  const file = join(mkdtempSync(join(tmpdir(), 'bs-downexp-')), 'slow.raw');
  writeFileSync(file, bytes);
  expect(
    await cli.run(['artifact', 'upload', id, file, '--state', '25', '--name', 'slow.raw', '-q']),
  ).toMatchObject({
    code: 0,
  });

  return { id, bytes, file };
}

it('renews an expired download URL from the service and finishes with checked bytes', async () => {
  const { id, bytes } = await builtImage();
  slow.reset();
  const res = await cli.run(
    ['artifact', 'download', id, '--state', '25', '--name', 'slow.raw', '-O', 'slow.out', '--parallel', '1'],
    { env: { HTTP_PROXY: slow.url, BLDST_DOWNLOAD_RANGE_BYTES: String(MiB) } },
  );
  expect(res).toMatchObject({ code: 0 });
  expect(res.stderr).toContain(`sha256:${createHash('sha256').update(bytes).digest('hex')} (matches)`);
  expect(res.stderr).not.toContain('<');
  expect(readFileSync(join(cli.home, 'slow.out')).equals(bytes)).toBe(true);

  const api = new URL(stack.url).host;
  const s3 = new URL(process.env.BUILDSTATE_S3_ENDPOINT!).host;
  const refused = slow.to(s3).filter((r) => r.method === 'GET' && r.status === 403);
  const artifactGets = slow
    .to(api)
    .filter((r) => r.method === 'GET' && r.path.includes('/artifacts/slow.raw'));
  // At least one range was refused as expired, and each refusal cost one fresh URL from the service.
  expect(refused.length).toBeGreaterThanOrEqual(1);
  expect(artifactGets).toHaveLength(1 + refused.length);
  // Every range arrived exactly once in the end.
  const served = slow.to(s3).filter((r) => r.method === 'GET' && r.status === 206);
  expect(new Set(served.map((r) => r.range)).size).toBe(4);
  expect(served.reduce((n, r) => n + r.bytesDown, 0)).toBe(4 * MiB);
});

it("pipeline run's input fetch renews an expired URL too", async () => {
  const { id, file } = await builtImage();
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 25, status: 'completed' })).status,
  ).toBe(201);
  const work = mkdtempSync(join(tmpdir(), 'bs-downexp-pipe-'));
  writeFileSync(
    join(work, 'p.yaml'),
    `steps:\n  - { state: 30, name: use, run: 'cmp "$BLDST_INPUT_ARTIFACT" ${file}' }\n`,
  );
  slow.reset();
  const run = await cli.run(
    ['pipeline', 'run', join(work, 'p.yaml'), '--build', id, '--workdir', work, '--transfer-parallel', '1'],
    { env: { HTTP_PROXY: slow.url, BLDST_DOWNLOAD_RANGE_BYTES: String(MiB) } },
  );
  expect(run.stderr).not.toContain('<');
  expect(run.code).toBe(0);
  const s3 = new URL(process.env.BUILDSTATE_S3_ENDPOINT!).host;
  expect(slow.to(s3).filter((r) => r.method === 'GET' && r.status === 403).length).toBeGreaterThanOrEqual(1);
});

it("the Concourse resource's in renews an expired URL too", async () => {
  // in fetches 8 ranges at once: 24 ranges of 256 KiB at 128 KiB/s each are three waves of 2 s,
  // so the third wave (at 4 s at the earliest) asks with an expired URL.
  const { id } = await builtImage();
  const bytes = randomBytes(6 * MiB);
  const file = join(mkdtempSync(join(tmpdir(), 'bs-downexp-in-')), 'wide.raw');
  writeFileSync(file, bytes);
  expect(
    await cli.run(['artifact', 'upload', id, file, '--state', '25', '--name', 'wide.raw', '-q']),
  ).toMatchObject({ code: 0 });
  const seq = (await stack.call('POST', `/builds/${id}/states`, { state_code: 25, status: 'completed' })).body
    .version as number;
  const dest = mkdtempSync(join(tmpdir(), 'bs-downexp-dest-'));
  const resource = join(__dirname, '..', '..', '..', 'integrations', 'concourse', 'opt', 'resource');
  const got = await runTool(join(resource, 'in'), [dest], {
    input: JSON.stringify({
      source: { api_url: stack.url, api_key: ADMIN_KEY, build_id: id },
      version: { build_id: id, state_code: '25', seq: String(seq) },
    }),
    env: {
      PATH: process.env.PATH ?? '',
      HTTP_PROXY: slower.url,
      BLDST_DOWNLOAD_RANGE_BYTES: String(256 * 1024),
    },
  });
  expect(got.stderr).not.toContain('<');
  expect(got.code).toBe(0);
  expect(readFileSync(join(dest, 'artifacts', 'wide.raw')).equals(bytes)).toBe(true);
  const s3 = new URL(process.env.BUILDSTATE_S3_ENDPOINT!).host;
  const gets = slower.to(s3).filter((r) => r.method === 'GET' && r.path.includes('wide.raw'));
  expect(gets.filter((r) => r.status === 403).length).toBeGreaterThanOrEqual(1);
}, 60_000);

/**
 * A download URL that expires during a slow transfer is renewed, never a failed build (issue 26,
 * item 8): presigned URLs live 2 s here (BUILDSTATE_PRESIGN_EXPIRY_S) and a forward proxy caps
 * the connection at 1 MiB/s, so with 1 MiB ranges fetched one at a time the fourth range (at 3 s
 * at the earliest) is asked for with an expired URL. S3's XML never reaches the terminal. The
 * same renewal serves `artifact download` and `pipeline run`'s input fetch.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../../lib/config/env';
import { buildCli, cliRunner } from '../../helpers/cli';
import { type ForwardProxy, startForwardProxy } from '../../helpers/forward-proxy';
import { startTestStack, type TestStack } from '../../helpers/stack';

process.env[ENV.presignExpirySeconds] = '2';

const MiB = 1024 * 1024;
let stack: TestStack;
let slow: ForwardProxy;
const cli = cliRunner(() => stack.url);

beforeAll(async () => {
  buildCli();
  stack = await startTestStack();
  slow = await startForwardProxy({ bytesPerSecond: MiB });
}, 60_000);
afterAll(async () => {
  await slow?.stop();
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

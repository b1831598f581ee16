/**
 * Part URLs that expire during a multipart upload are renewed, never a failed upload: presigned
 * URLs live 2 s here (BUILDSTATE_PRESIGN_EXPIRY_S) and every part confirmation is held 2.5 s, so
 * each next part's URL from the first batch has expired by the time it is sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../cli/client';
import { uploadMultipart } from '../../../cli/upload';
import { MiB } from '../../../lib/artifacts/upload-plan';
import { ENV } from '../../../lib/config/env';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

process.env[ENV.presignExpirySeconds] = '2';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);
afterAll(() => stack.stop());

/** The real client, counting URL batches and holding each part confirmation back. */
class SlowConfirmations extends Client {
  urlCalls = 0;
  override async post<T = unknown>(path: string, body?: unknown, headers: Record<string, string> = {}) {
    if (path.endsWith('/urls')) this.urlCalls++;
    if (path.endsWith('/parts')) await new Promise((r) => setTimeout(r, 2500));
    return super.post<T>(path, body, headers);
  }
}

it('renews expired part URLs transparently and completes the upload', async () => {
  const { id } = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'x' })).body;
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' });
  const data = randomBytes(16 * MiB);
  const path = join(mkdtempSync(join(tmpdir(), 'bs-exp-')), 'slow.raw');
  writeFileSync(path, data);
  const client = new SlowConfirmations(stack.url, { kind: 'api_key', value: ADMIN_KEY }, { log: () => {} });
  const partsBefore = stack.s3.stats.parts;

  const view = await uploadMultipart<{ verified: boolean; checksum: string }>(
    client,
    id,
    10,
    path,
    data.length,
    {
      name: 'slow.raw',
      partSize: 5 * MiB,
      parallel: 1,
    },
  );

  expect(view).toMatchObject({
    verified: true,
    checksum: `sha256:${createHash('sha256').update(data).digest('hex')}`,
  });
  // One batch covered all four parts; the later parts' URLs expired and were asked for again.
  expect(client.urlCalls).toBeGreaterThanOrEqual(3);
  expect(stack.s3.stats.parts - partsBefore).toBe(4);
}, 60_000);

/** The artifact store failing: S3 first, so a failed S3 write leaves no DynamoDB record behind. */
import { ArtifactRepository } from '../../../lib/artifacts/artifact.repository';
import { ArtifactService } from '../../../lib/artifacts/artifact.service';
import { ArtifactStore, type ObjectStore } from '../../../lib/artifacts/artifact.store';
import { createS3Client } from '../../../lib/artifacts/s3-client';
import { sweepOrphans } from '../../../lib/artifacts/sweep';
import { BuildRepository } from '../../../lib/builds/build.repository';
import { defaultCatalog } from '../../../lib/catalog/state-catalog';
import { services } from '../../../lib/runtime';
import { freePort } from '../../../local/processes';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };

function serviceWith(store: ObjectStore) {
  return new ArtifactService({
    builds: new BuildRepository(services().db, stack.tableName),
    artifacts: new ArtifactRepository(services().db, stack.tableName),
    store,
    catalogs: { forProject: async () => defaultCatalog },
  });
}

async function buildAt10() {
  const { id } = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'x' })).body;
  await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'completed' });
  return id as string;
}

const pointer = {
  name: 'p.raw',
  storage_type: 'nfs' as const,
  uri: 'nfs://filer/p.raw',
  checksum: `sha256:${'a'.repeat(64)}`,
};

it.each([
  [
    'a missing bucket',
    async () =>
      new ArtifactStore(
        createS3Client({ region: 'us-east-1', s3Endpoint: stack.s3.endpoint }),
        'no-such-bucket',
        3600,
      ),
  ],
  [
    'an unreachable S3 endpoint',
    async () =>
      new ArtifactStore(
        createS3Client({ region: 'us-east-1', s3Endpoint: `http://127.0.0.1:${await freePort()}` }),
        'buildstate-artifacts',
        3600,
      ),
  ],
])('answers 503 for %s and records nothing', async (_name, makeStore) => {
  const id = await buildAt10();
  const svc = serviceWith(await makeStore());
  await expect(svc.register(id, 10, pointer, actor)).rejects.toMatchObject({
    code: 'unavailable',
    status: 503,
  });
  expect(await new ArtifactRepository(services().db, stack.tableName).get(id, 10, 'p.raw')).toBeNull();
});

it('answers 503 when verifying against a missing bucket, not "not uploaded"', async () => {
  const id = await buildAt10();
  await stack.call('POST', `/builds/${id}/states/10/artifacts`, { name: 'm.raw', storage_type: 's3' });
  const svc = serviceWith(
    new ArtifactStore(
      createS3Client({ region: 'us-east-1', s3Endpoint: stack.s3.endpoint }),
      'no-such-bucket',
      3600,
    ),
  );
  await expect(svc.verify(id, 10, 'm.raw', {})).rejects.toMatchObject({ code: 'unavailable' });
});

describe('orphan sweep', () => {
  it('removes pointers no record refers to, and only those', async () => {
    const id = await buildAt10();
    await stack.call('POST', `/builds/${id}/states/10/artifacts`, pointer);
    const store = new ArtifactStore(
      createS3Client({ region: 'us-east-1', s3Endpoint: stack.s3.endpoint }),
      'buildstate-artifacts',
      3600,
    );
    const repo = new ArtifactRepository(services().db, stack.tableName);
    await store.putPointer(`builds/${id}/states/10/orphan.raw`, { uri: 'nfs://x' });

    const dry = await sweepOrphans(store, repo, { apply: false, minAgeSeconds: 0 });
    expect(dry.orphans).toEqual([`builds/${id}/states/10/orphan.raw`]);
    expect(dry.deleted).toEqual([]);
    expect(await store.head(`builds/${id}/states/10/orphan.raw`)).not.toBeNull();

    const young = await sweepOrphans(store, repo, { apply: true, minAgeSeconds: 3600 });
    expect(young.deleted).toEqual([]);

    const applied = await sweepOrphans(store, repo, { apply: true, minAgeSeconds: 0 });
    expect(applied.deleted).toEqual([`builds/${id}/states/10/orphan.raw`]);
    expect(await store.head(`builds/${id}/states/10/orphan.raw`)).toBeNull();
    expect(await store.head(`builds/${id}/states/10/p.raw`)).not.toBeNull();
  });
});

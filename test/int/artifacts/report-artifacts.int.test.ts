/**
 * POST /builds/{id}/states with `artifacts`: a state report and the artifacts it produced are one
 * change, validated whole and committed together or not at all (gateway, DynamoDB Local, s3rver).
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
let s3: S3Client;
beforeAll(async () => {
  stack = await startTestStack();
  s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
});
afterAll(async () => {
  s3.destroy();
  await stack.stop();
});

const sum = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
let n = 0;
async function newBuild() {
  const id = `ra-${++n}`;
  expect(
    (await stack.call('POST', '/builds', { id, platform_id: 'aws', image_type_id: 'rhel9' })).status,
  ).toBe(201);
  return id;
}
const image = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  storage_type: 's3',
  uri: `s3://images-bucket/rhel9/${name}`,
  checksum: sum(name),
  size_bytes: 1024,
  format: 'qcow2',
  ...extra,
});
/** Everything a refused request must leave as it was. */
async function snapshot(id: string) {
  const objects = await s3.send(
    new ListObjectsV2Command({ Bucket: stack.s3.bucket, Prefix: `builds/${id}/` }),
  );
  return {
    build: (await stack.call('GET', `/builds/${id}`)).body,
    history: (await stack.call('GET', `/builds/${id}/history`)).body.items,
    artifacts: (await stack.call('GET', `/builds/${id}/artifacts`)).body.states,
    objects: (objects.Contents ?? []).map((o) => o.Key),
  };
}

it('records the state and its artifacts in one change, pointers included', async () => {
  const id = await newBuild();
  const res = await stack.call('POST', `/builds/${id}/states`, {
    state_code: 10,
    status: 'completed',
    artifacts: [
      image('base.qcow2'),
      image('base.vmdk', { storage_type: 'nfs', uri: 'nfs://filer/base.vmdk' }),
    ],
  });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ id, current_state: 10, state_status: 'completed', version: 2 });
  expect(res.body.artifacts).toEqual([
    expect.objectContaining({
      state_code: 10,
      name: 'base.qcow2',
      managed: false,
      checksum: sum('base.qcow2'),
    }),
    expect.objectContaining({
      state_code: 10,
      name: 'base.vmdk',
      storage_type: 'nfs',
      uri: 'nfs://filer/base.vmdk',
    }),
  ]);
  const listed = (await stack.call('GET', `/builds/${id}/artifacts`)).body.states;
  expect(listed).toHaveLength(1);
  expect(listed[0].artifacts.map((a: { name: string }) => a.name)).toEqual(['base.qcow2', 'base.vmdk']);
  const pointer = await s3.send(
    new HeadObjectCommand({ Bucket: stack.s3.bucket, Key: `builds/${id}/states/10/base.vmdk` }),
  );
  expect(pointer.Metadata).toMatchObject({ storage_type: 'nfs', sha256: sum('base.vmdk').slice(7) });
  // Verify works on them like on any external pointer: with what a worker observed.
  const verified = await stack.call('POST', `/builds/${id}/states/10/artifacts/base.qcow2/verify`, {
    checksum: sum('base.qcow2'),
    size_bytes: 1024,
  });
  expect(verified.body.verified).toBe(true);
});

it.each([
  [
    'a malformed checksum',
    [image('a.qcow2'), image('b.qcow2', { checksum: 'sha256:nothex' })],
    'artifacts.1.checksum',
  ],
  [
    'a missing uri (managed uploads need their own call)',
    [{ name: 'c.raw', storage_type: 's3' }],
    'artifacts.0.uri',
  ],
  ['a name given twice', [image('d.qcow2'), image('d.qcow2')], 'artifacts.1.name'],
  ['metadata the store cannot keep', [image('e.qcow2', { metadata: { '': 1 } })], 'artifacts.0.metadata.'],
  ['an unknown field', [image('f.qcow2', { colour: 'red' })], 'artifacts.0'],
  ['more than 20', Array.from({ length: 21 }, (_, i) => image(`g${i}.qcow2`)), 'artifacts'],
])('refuses %s: 400 and neither the state nor any artifact is recorded', async (_, artifacts, path) => {
  const id = await newBuild();
  const before = await snapshot(id);
  const res = await stack.call('POST', `/builds/${id}/states`, {
    state_code: 10,
    status: 'completed',
    artifacts,
  });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_error');
  expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  expect(await snapshot(id)).toEqual(before);
});

it('refuses a report the rules refuse without writing any pointer', async () => {
  const id = await newBuild();
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 20, status: 'completed' })).status,
  ).toBe(201);
  const before = await snapshot(id);
  const res = await stack.call('POST', `/builds/${id}/states`, {
    state_code: 10,
    status: 'completed',
    artifacts: [image('late.qcow2')],
  });
  expect([res.status, res.body.error.code]).toEqual([409, 'state_regression']);
  expect(await snapshot(id)).toEqual(before);
});

it('refuses an artifact registered before with other values, and keeps one registered with the same', async () => {
  const id = await newBuild();
  expect(
    (await stack.call('POST', `/builds/${id}/states`, { state_code: 10, status: 'in_progress' })).status,
  ).toBe(201);
  expect((await stack.call('POST', `/builds/${id}/states/10/artifacts`, image('kept.qcow2'))).status).toBe(
    201,
  );
  const before = await snapshot(id);
  const clash = await stack.call('POST', `/builds/${id}/states`, {
    state_code: 10,
    status: 'completed',
    artifacts: [image('new.qcow2'), image('kept.qcow2', { size_bytes: 2048 })],
  });
  expect([clash.status, clash.body.error.code]).toEqual([409, 'artifact_exists']);
  expect(clash.body.error.details).toMatchObject({ name: 'kept.qcow2', requested: { size_bytes: 2048 } });
  expect(await snapshot(id)).toEqual(before);

  const same = await stack.call('POST', `/builds/${id}/states`, {
    state_code: 10,
    status: 'completed',
    artifacts: [image('new.qcow2'), image('kept.qcow2')],
  });
  expect(same.status).toBe(201);
  expect(same.body.artifacts.map((a: { name: string }) => a.name)).toEqual(['new.qcow2', 'kept.qcow2']);
});

it('replays the report with its artifacts for a repeated Idempotency-Key', async () => {
  const id = await newBuild();
  const body = { state_code: 15, status: 'completed', artifacts: [image('once.qcow2')] };
  const first = await stack.call('POST', `/builds/${id}/states`, body, { 'idempotency-key': `${id}-15` });
  const again = await stack.call('POST', `/builds/${id}/states`, body, { 'idempotency-key': `${id}-15` });
  expect(first.status).toBe(201);
  expect(again.status).toBe(201);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(again.body).toEqual(first.body);
  expect((await stack.call('GET', `/builds/${id}/history`)).body.items).toHaveLength(2);
});

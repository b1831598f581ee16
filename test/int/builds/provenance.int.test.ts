/**
 * Signed provenance end to end (gateway, handlers, DynamoDB Local and its stream, s3rver, the
 * built CLI): signing at completion, the envelope checked by a verifier written here from the
 * DSSE spec with node:crypto alone (not lib/provenance), tampering refused, fork parents' and
 * base builds' artifacts as dependencies, the S3 copy and its event, replay, key rotation.
 */
import { createHash, verify } from 'node:crypto';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { provenance } from '../../../lib/compose/provenance';
import { config } from '../../../lib/config/env';
import { buildCli, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const cli = cliRunner(() => stack.url);
beforeAll(async () => {
  buildCli();
  stack = await startTestStack({ events: { pollMs: 50 } });
});
afterAll(() => stack.stop());

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** DSSE v1 verification from the spec alone: PAE, then ECDSA P-256/SHA-256 over it, DER signature. */
function independentlyVerifies(envelope: Envelope, pem: string): boolean {
  const body = Buffer.from(envelope.payload, 'base64');
  const type = Buffer.from(envelope.payloadType);
  const signed = Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${body.length} `),
    body,
  ]);
  return envelope.signatures.some((s) => verify('sha256', signed, pem, Buffer.from(s.sig, 'base64')));
}

async function pemFor(keyid?: string): Promise<string> {
  const res = await fetch(
    `${stack.url}/.well-known/buildstate-signing-key.pem${keyid ? `?keyid=${keyid}` : ''}`,
  );
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
  return res.text();
}

// biome-ignore lint/suspicious/noExplicitAny: the decoded statement is read field by field
const statementOf = (envelope: Envelope): any =>
  JSON.parse(Buffer.from(envelope.payload, 'base64').toString());

async function report(id: string, state_code: number, status: string, extra: Record<string, unknown> = {}) {
  const res = await stack.call('POST', `/builds/${id}/states`, { state_code, status, ...extra });
  expect(res.status).toBe(201);
}

/** A state's artifact, reported with the state and verified (its sha256 is that of `content`). */
async function completeWithArtifact(id: string, code: number, name: string, content: string, worker: string) {
  await report(id, code, 'in_progress', { worker_id: worker });
  await report(id, code, 'completed', {
    worker_id: worker,
    artifacts: [
      {
        name,
        storage_type: 's3',
        uri: `s3://images/${id}/${name}`,
        checksum: `sha256:${sha(content)}`,
        size_bytes: content.length,
      },
    ],
  });
  const verified = await stack.call('POST', `/builds/${id}/states/${code}/artifacts/${name}/verify`, {
    checksum: `sha256:${sha(content)}`,
    size_bytes: content.length,
  });
  expect(verified.status).toBe(200);
}

async function create(id: string, extra: Record<string, unknown> = {}) {
  const res = await stack.call('POST', '/builds', {
    id,
    project_id: 'paging',
    platform_id: 'aws',
    image_type_id: 'rhel9',
    build_number: `${id}-42`,
    ...extra,
  });
  expect(res.status).toBe(201);
}

async function signed(id: string): Promise<Envelope> {
  await stack.events!.drain();
  const res = await stack.call('GET', `/builds/${id}/provenance`);
  expect(res.status).toBe(200);
  return res.body as Envelope;
}

describe('signed provenance', () => {
  it('answers 409 not_completed before the build completes, and signs at completion', async () => {
    await create('pv-one');
    await completeWithArtifact('pv-one', 10, 'disk.raw', 'disk bytes', 'packer-1');
    const early = await stack.call('GET', '/builds/pv-one/provenance');
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: 'not_completed', details: { status: 'in_progress' } });

    // State 20 fails once on one worker and is resumed on another: its input is state 10's artifact.
    await report('pv-one', 20, 'in_progress', { worker_id: 'ansible-1' });
    await report('pv-one', 20, 'failed', { worker_id: 'ansible-1', error: 'yum timeout' });
    await completeWithArtifact('pv-one', 20, 'image.qcow2', 'image bytes', 'ansible-2');
    await stack.call('POST', '/builds/pv-one/images', {
      cloud: 'aws',
      region: 'us-east-1',
      image_id: 'ami-0abc',
      metadata: { digest: `sha256:${sha('ami snapshot')}` },
    });
    await stack.call('POST', '/builds/pv-one/images', {
      cloud: 'gcp',
      region: 'europe-west1',
      image_id: 'img-1',
    });
    await report('pv-one', 100, 'completed', { worker_id: 'packer-1' });

    const envelope = await signed('pv-one');
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(independentlyVerifies(envelope, await pemFor())).toBe(true);
    expect(envelope.signatures[0]!.keyid).toBe(
      createHash('sha256')
        .update(Buffer.from((await pemFor()).replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64'))
        .digest('hex'),
    );

    const statement = statementOf(envelope);
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://slsa.dev/provenance/v1',
      subject: [
        { name: 'states/10/disk.raw', digest: { sha256: sha('disk bytes') } },
        { name: 'states/20/image.qcow2', digest: { sha256: sha('image bytes') } },
        { name: 'aws:us-east-1:ami-0abc', digest: { sha256: sha('ami snapshot') } },
      ],
      predicate: {
        buildDefinition: {
          buildType: 'https://buildstate.dev/provenance/build/v1',
          externalParameters: {
            project: 'paging',
            platform: 'aws',
            image_type: 'rhel9',
            build_number: 'pv-one-42',
          },
          resolvedDependencies: [
            {
              name: 'disk.raw',
              uri: 'buildstate://builds/pv-one/states/10/disk.raw',
              digest: { sha256: sha('disk bytes') },
              annotations: { role: 'resume_input', build_id: 'pv-one', state_code: 10 },
            },
          ],
        },
        runDetails: {
          builder: { id: 'https://buildstate.dev/service' },
          metadata: { invocationId: 'pv-one' },
        },
      },
    });
    const byproducts = statement.predicate.runDetails.byproducts;
    expect(byproducts[0].annotations.workers).toEqual(['ansible-1', 'ansible-2', 'packer-1']);
    expect(byproducts[0].annotations.attempts).toContainEqual(
      expect.objectContaining({ state_code: 20, attempt: 1, status: 'failed', worker_id: 'ansible-1' }),
    );
    // An image without a digest cannot be a subject: it is listed as a byproduct.
    expect(byproducts[1]).toEqual({
      name: 'buildstate:images',
      annotations: { images: [expect.objectContaining({ name: 'gcp:europe-west1:img-1' })] },
    });
    // Closing-note material: the decoded statement, as the service signed it.
    process.stdout.write(`decoded provenance statement of pv-one:\n${JSON.stringify(statement, null, 2)}\n`);
  });

  it('stores the envelope beside the artifacts in S3 and announces it once, even when replayed', async () => {
    const envelope = await signed('pv-one');
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: stack.s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const object = await s3.send(
      new GetObjectCommand({ Bucket: stack.s3.bucket, Key: 'builds/pv-one/provenance.intoto.json' }),
    );
    expect(JSON.parse(await object.Body!.transformToString())).toEqual(envelope);
    s3.destroy();

    // A replayed completion (the stream read twice) signs nothing and announces nothing again.
    expect(await provenance().signCompleted('pv-one')).toBe('already_signed');
    await stack.events!.drain();
    expect((await stack.call('GET', '/builds/pv-one/provenance')).body).toEqual(envelope);
    const announced = stack
      .events!.feed.after(0, 10_000)
      .items.filter((e) => e.detailType === 'Provenance Signed' && e.detail.build_id === 'pv-one');
    expect(announced).toHaveLength(1);
    expect(announced[0]!.detail).toMatchObject({
      dedup_key: 'pv-one:provenance',
      keyid: envelope.signatures[0]!.keyid,
      object_key: 'builds/pv-one/provenance.intoto.json',
      payload_sha256: sha(Buffer.from(envelope.payload, 'base64').toString()),
      subjects: 3,
    });
  });

  it('leaves one valid envelope and one event when signers race (the stream and two replays at once)', async () => {
    await create('pv-race');
    await completeWithArtifact('pv-race', 100, 'raced.qcow2', 'raced image', 'packer-1');
    const results = await Promise.all([
      provenance().signCompleted('pv-race'),
      provenance().signCompleted('pv-race'),
    ]);
    expect(results.every((r) => r === 'signed' || r === 'already_signed')).toBe(true);
    const envelope = await signed('pv-race');
    expect(independentlyVerifies(envelope, await pemFor())).toBe(true);
    expect(statementOf(envelope).subject).toEqual([
      { name: 'states/100/raced.qcow2', digest: { sha256: sha('raced image') } },
    ]);
    await stack.events!.drain();
    const announced = stack
      .events!.feed.after(0, 10_000)
      .items.filter((e) => e.detailType === 'Provenance Signed' && e.detail.build_id === 'pv-race');
    expect(announced).toHaveLength(1);
  });

  it('refuses a tampered payload: the independent verifier and bldst provenance verify', async () => {
    const envelope = await signed('pv-one');
    const statement = statementOf(envelope);
    statement.subject[1].digest.sha256 = sha('a trojan image');
    const tampered = { ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') };
    expect(independentlyVerifies(tampered, await pemFor())).toBe(false);

    const file = join(cli.home, 'tampered.json');
    writeFileSync(file, JSON.stringify(tampered));
    const refused = await cli.run(['provenance', 'verify', 'pv-one', '--envelope', file]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('INVALID');
    expect(refused.stdout).toContain('subject states/20/image.qcow2: digest');

    const good = join(cli.home, 'image.qcow2');
    writeFileSync(good, 'image bytes');
    const ok = await cli.run(['provenance', 'verify', 'pv-one', '--artifact', good]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain(`ok    signature: valid (key ${envelope.signatures[0]!.keyid})`);
    expect(ok.stdout).toContain('ok    subjects: 2 artifact digest(s) match');
    expect(ok.stdout).toContain(`is subject states/20/image.qcow2`);

    const other = join(cli.home, 'other.qcow2');
    writeFileSync(other, 'some other bytes');
    const wrongFile = await cli.run(['provenance', 'verify', 'pv-one', '--artifact', other]);
    expect(wrongFile.code).toBe(1);
    expect(wrongFile.stdout).toContain(`sha256 ${sha('some other bytes')} is not a subject`);

    const decoded = await cli.run(['provenance', 'get', 'pv-one', '--decode']);
    expect(decoded.code).toBe(0);
    expect(JSON.parse(decoded.stdout)).toEqual(statement.subject ? statementOf(envelope) : null);
  });

  it("names a fork parent's artifact digest among a child's dependencies", async () => {
    await create('pv-parent');
    await completeWithArtifact('pv-parent', 50, 'base.ami.json', 'parent ami', 'packer-1');
    const fork = await stack.call(
      'POST',
      '/builds/pv-parent/fork',
      { at_state: 50, children: [{ id: 'pv-child', platform_id: 'aws-commercial' }] },
      { 'idempotency-key': 'pv-fork' },
    );
    expect(fork.status).toBe(201);
    await completeWithArtifact('pv-child', 60, 'regional.json', 'regional ami', 'packer-eu');
    await report('pv-child', 100, 'completed', { worker_id: 'packer-eu' });

    const envelope = await signed('pv-child');
    expect(independentlyVerifies(envelope, await pemFor())).toBe(true);
    const definition = statementOf(envelope).predicate.buildDefinition;
    expect(definition.internalParameters).toEqual({ parent_id: 'pv-parent', forked_at_state: 50 });
    expect(definition.resolvedDependencies).toContainEqual({
      name: 'base.ami.json',
      uri: 'buildstate://builds/pv-parent/states/50/base.ami.json',
      digest: { sha256: sha('parent ami') },
      annotations: { role: 'fork_parent', build_id: 'pv-parent', state_code: 50 },
    });
  });

  it("names a base build's artifacts among the dependencies of a build made on it", async () => {
    await create('pv-base');
    await completeWithArtifact('pv-base', 100, 'golden.qcow2', 'golden image', 'packer-1');
    await create('pv-app', { base_build_id: 'pv-base' });
    await completeWithArtifact('pv-app', 100, 'app.qcow2', 'app image', 'packer-2');

    const envelope = await signed('pv-app');
    const definition = statementOf(envelope).predicate.buildDefinition;
    expect(definition.internalParameters).toEqual({ base_build_id: 'pv-base' });
    expect(definition.resolvedDependencies).toEqual([
      {
        name: 'golden.qcow2',
        uri: 'buildstate://builds/pv-base/states/100/golden.qcow2',
        digest: { sha256: sha('golden image') },
        annotations: { role: 'base_build', build_id: 'pv-base', state_code: 100 },
      },
    ]);
  });

  it('keeps old envelopes verifiable after the key rotates (the old key by its keyid)', async () => {
    const file = config().signingKeyFile!;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = await signed('pv-one');
    const oldKeyid = before.signatures[0]!.keyid;

    // Rotate: the key file is replaced (here: moved away; the next use makes a new one).
    renameSync(file, `${file}.retired`);
    expect(existsSync(file)).toBe(false);
    await create('pv-after');
    await completeWithArtifact('pv-after', 100, 'next.qcow2', 'next image', 'packer-1');
    const after = await signed('pv-after');
    const newKeyid = after.signatures[0]!.keyid;
    expect(newKeyid).not.toBe(oldKeyid);

    const current = await pemFor();
    expect(independentlyVerifies(after, current)).toBe(true);
    expect(independentlyVerifies(before, current)).toBe(false);
    expect(independentlyVerifies(before, await pemFor(oldKeyid))).toBe(true);
    expect((await cli.run(['provenance', 'verify', 'pv-one'])).code).toBe(0);
    expect(
      (await fetch(`${stack.url}/.well-known/buildstate-signing-key.pem?keyid=${'0'.repeat(64)}`)).status,
    ).toBe(404);
  });
});

import { objectKey, parseObjectKey } from '../../../../lib/artifacts/artifact.keys';
import type { Artifact } from '../../../../lib/artifacts/artifact.model';
import { registerArtifactSchema } from '../../../../lib/artifacts/artifact.schema';
import { objectMetadata } from '../../../../lib/artifacts/artifact.service';

const SUM = `sha256:${'ab'.repeat(32)}`;

describe('registerArtifactSchema', () => {
  it('accepts a managed upload with nothing but a name', () => {
    expect(registerArtifactSchema.parse({ name: 'image.qcow2', storage_type: 's3' })).toEqual({
      name: 'image.qcow2',
      storage_type: 's3',
    });
  });

  it('normalises checksum case', () => {
    expect(
      registerArtifactSchema.parse({
        name: 'a',
        storage_type: 's3',
        checksum: SUM.toUpperCase().replace('SHA256', 'sha256'),
      }).checksum,
    ).toBe(SUM);
  });

  it.each([
    'nfs://filer/a.qcow2',
    's3://other-bucket/a',
    'https://mirror/a.raw',
    '/mnt/nfs/a.raw',
    'azure://acct/c/a',
  ])('accepts the external uri %s', (uri) => {
    expect(registerArtifactSchema.safeParse({ name: 'a.raw', storage_type: 'other', uri }).success).toBe(
      true,
    );
  });

  it.each([['../etc/passwd'], ['a/b'], ['a\\b'], ['.'], ['..'], ['a\nb'], ['a b'], [''], ['x'.repeat(201)]])(
    'rejects the name %j',
    (name) => {
      expect(registerArtifactSchema.safeParse({ name, storage_type: 's3' }).success).toBe(false);
    },
  );
});

describe('artifact keys', () => {
  it('round-trip object keys and refuse foreign ones', () => {
    expect(parseObjectKey(objectKey('b-1', 25, 'image.qcow2'))).toEqual({
      buildId: 'b-1',
      stateCode: 25,
      name: 'image.qcow2',
    });
    expect(parseObjectKey('builds/b-1/other/25/x')).toBeNull();
    expect(parseObjectKey('elsewhere/x')).toBeNull();
  });
});

describe('objectMetadata', () => {
  const artifact: Artifact = {
    build_id: 'b-1',
    state_code: 30,
    name: 'state-30.qcow2',
    storage_type: 'nfs',
    managed: false,
    uri: 'nfs://filer/bäume/state-30.qcow2',
    object_key: 'builds/b-1/states/30/state-30.qcow2',
    size_bytes: 0,
    checksum: SUM,
    format: 'qcow2',
    metadata: { not: 'copied' },
    verified: false,
    verified_at: null,
    created_by: 'key:x',
    created_at: '2026-01-01T00:00:00Z',
  };

  it('describes the artifact in ASCII S3 metadata, sizes of zero included', () => {
    expect(objectMetadata(artifact)).toEqual({
      uri: 'nfs://filer/b%C3%A4ume/state-30.qcow2',
      storage_type: 'nfs',
      build_id: 'b-1',
      state_code: '30',
      name: 'state-30.qcow2',
      sha256: 'ab'.repeat(32),
      size_bytes: '0',
      format: 'qcow2',
    });
  });

  it('leaves out what is unknown', () => {
    expect(
      Object.keys(objectMetadata({ ...artifact, checksum: null, size_bytes: null, format: null })),
    ).toEqual(['uri', 'storage_type', 'build_id', 'state_code', 'name']);
  });
});

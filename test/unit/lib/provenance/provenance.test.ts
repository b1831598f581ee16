/** The pure parts of provenance: DSSE's PAE, the statement's rules, the local signer's key file. */
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact } from '../../../../lib/artifacts/artifact.model';
import type { HistoryEntry } from '../../../../lib/builds/build.model';
import type { ImageRecord } from '../../../../lib/lineage/lineage.repository';
import { pae } from '../../../../lib/provenance/dsse';
import { completedBuildIds } from '../../../../lib/provenance/provenance.service';
import { FileSigner, keyIdOf } from '../../../../lib/provenance/signer';
import { provenanceStatement } from '../../../../lib/provenance/statement';
import { buildAt, T0 } from '../../../helpers/builds';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const artifact = (fields: Partial<Artifact> & Pick<Artifact, 'state_code' | 'name'>): Artifact => ({
  build_id: 'b-1',
  storage_type: 's3',
  managed: false,
  uri: 's3://x/y',
  object_key: 'k',
  size_bytes: 1,
  checksum: `sha256:${hex(fields.name)}`,
  format: null,
  metadata: {},
  verified: true,
  verified_at: T0,
  created_by: 'key:test',
  created_at: T0,
  ...fields,
});
const failed = (state_code: number): HistoryEntry =>
  ({
    build_id: 'b-1',
    seq: 1,
    event: 'state_reported',
    state_code,
    status: 'failed',
    attempt: 1,
    worker_id: 'w',
  }) as unknown as HistoryEntry;
const image = (fields: Partial<ImageRecord>): ImageRecord => ({
  build_id: 'b-1',
  cloud: 'aws',
  region: 'us-east-1',
  image_id: 'ami-1',
  name: null,
  account: null,
  metadata: {},
  published_at: T0,
  published_by: 'key:test',
  ...fields,
});

describe('DSSE pre-authentication encoding', () => {
  it("matches the spec's example", () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });
  it('counts bytes, not characters', () => {
    expect(pae('t', Buffer.from('é')).toString()).toBe('DSSEv1 1 t 2 é');
  });
});

describe('provenance statement', () => {
  const completed = buildAt({ status: 'completed', started_at: T0, completed_at: T0 });

  it('names only verified artifacts with a sha256 as subjects, and images only with a digest', () => {
    const s = provenanceStatement({
      build: completed,
      history: [],
      artifacts: [
        artifact({ state_code: 20, name: 'b' }),
        artifact({ state_code: 10, name: 'a' }),
        artifact({ state_code: 10, name: 'unverified', verified: false }),
        artifact({ state_code: 10, name: 'no-sum', checksum: null }),
      ],
      images: [image({ metadata: { digest: `sha256:${hex('ami')}` } }), image({ image_id: 'ami-2' })],
      serviceVersion: '1.2.3',
    });
    expect(s.subject.map((x) => x.name)).toEqual(['states/10/a', 'states/20/b', 'aws:us-east-1:ami-1']);
    expect(s.predicate.runDetails.byproducts[1]!.annotations).toEqual({
      images: [expect.objectContaining({ name: 'aws:us-east-1:ami-2' })],
    });
    expect(s.predicate.runDetails.builder.version).toEqual({ buildstate: '1.2.3' });
  });

  it("takes a retry's inputs from the latest completed state below it, else the fork parent's up to the fork", () => {
    const child = buildAt({ id: 'c', status: 'completed', parent_id: 'p', forked_at_state: 50 });
    const parentArtifacts = [
      artifact({ build_id: 'p', state_code: 40, name: 'old' }),
      artifact({ build_id: 'p', state_code: 50, name: 'at-fork' }),
      artifact({ build_id: 'p', state_code: 60, name: 'after-fork' }),
    ];
    const s = provenanceStatement({
      build: child,
      history: [failed(60)],
      artifacts: [],
      images: [],
      parent: { build: buildAt({ id: 'p' }), artifacts: parentArtifacts },
      serviceVersion: '1',
    });
    const deps = s.predicate.buildDefinition.resolvedDependencies.map((d) => [d.annotations?.role, d.name]);
    expect(deps).toEqual([
      ['fork_parent', 'old'],
      ['fork_parent', 'at-fork'],
      ['resume_input', 'at-fork'],
    ]);
  });
});

describe('completions in a stream batch', () => {
  it('picks history inserts that made the build completed, once per build', () => {
    expect(
      completedBuildIds([
        { type: 'history', build_id: 'a', build_status: 'completed', from_build_status: 'in_progress' },
        { type: 'history', build_id: 'a', build_status: 'completed', from_build_status: 'in_progress' },
        { type: 'history', build_id: 'b', build_status: 'completed', from_build_status: 'completed' },
        { type: 'history', build_id: 'c', build_status: 'failed', from_build_status: 'in_progress' },
        { type: 'build', build_id: 'd', build_status: 'completed' },
      ]),
    ).toEqual(['a']);
  });
});

describe('the local signer', () => {
  it('makes its key on first use (mode 0600), keeps it, and signs DER ECDSA that node:crypto verifies', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bs-signer-')), 'nested', 'key.pem');
    const signer = new FileSigner(file);
    const [a, b] = await Promise.all([signer.current(), signer.current()]);
    expect(a).toEqual(b);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(a.keyid).toBe(keyIdOf(a.pem));
    const { keyid, signature } = await signer.sign(Buffer.from('message'));
    expect(keyid).toBe(a.keyid);
    expect(verify('sha256', Buffer.from('message'), { key: a.pem, dsaEncoding: 'der' }, signature)).toBe(
      true,
    );
  });
});

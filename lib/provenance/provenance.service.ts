/**
 * Signed provenance of completed builds (docs/PROVENANCE.md): signing at completion (the change
 * stream calls signCompleted; a replay finds the envelope and signs nothing), and the read side
 * (the envelope, the public keys). Framework-free: repositories, store and signer are given.
 */
import { createHash } from 'node:crypto';
import { provenanceObjectKey, signingKeyObjectKey } from '../artifacts/artifact.keys';
import type { Artifact } from '../artifacts/artifact.model';
import type { Build, HistoryEntry } from '../builds/build.model';
import { AppError } from '../errors';
import type { Ancestry, ImageRecord } from '../lineage/lineage.repository';

type Key = Record<string, string | number>;

import { type DsseEnvelope, IN_TOTO_PAYLOAD_TYPE, pae } from './dsse';
import type { ProvenanceStore } from './provenance.store';
import type { Signer } from './signer';
import { provenanceStatement } from './statement';

export const PEM_CONTENT_TYPE = 'application/x-pem-file';
const KEYID = /^[0-9a-f]{64}$/;

export interface ProvenanceDeps {
  builds: {
    get(id: string): Promise<Build | null>;
    history(id: string, limit: number, start?: Key): Promise<{ items: HistoryEntry[]; next?: Key }>;
  };
  artifacts: { listForBuild(buildId: string): Promise<Artifact[]> };
  lineage: {
    ancestry(buildId: string): Promise<Ancestry | null>;
    images(buildId: string): Promise<ImageRecord[]>;
  };
  store: ProvenanceStore;
  signer: Signer;
  serviceVersion: string;
  clock?: () => Date;
}

export type SignResult = 'signed' | 'already_signed' | 'not_completed';

export class ProvenanceService {
  constructor(private readonly deps: ProvenanceDeps) {}

  /**
   * Signs a completed build's provenance and stores it, once: when the envelope is there already
   * (a replayed stream record, a second consumer), it is kept and only the event is made sure of.
   */
  async signCompleted(buildId: string): Promise<SignResult> {
    const build = await this.deps.builds.get(buildId);
    if (build?.status !== 'completed') return 'not_completed';
    const key = provenanceObjectKey(buildId);
    let text = await this.deps.store.getText(key);
    let result: SignResult = 'already_signed';
    if (text === null) {
      const envelope = await this.sign(build);
      const written = await this.deps.store.putOnce(key, JSON.stringify(envelope), 'application/json');
      // Lost a race with another signer: theirs is the one kept (both were valid).
      text = written ? JSON.stringify(envelope) : await this.deps.store.getText(key);
      if (written) result = 'signed';
    }
    const envelope = JSON.parse(text ?? '{}') as DsseEnvelope;
    const payload = Buffer.from(envelope.payload, 'base64');
    const now = (this.deps.clock ?? (() => new Date()))();
    await this.deps.store.recordSigned(
      {
        dedup_key: `${buildId}:provenance`,
        build_id: buildId,
        keyid: envelope.signatures[0]?.keyid ?? '',
        object_key: key,
        payload_sha256: createHash('sha256').update(payload).digest('hex'),
        subjects: (JSON.parse(payload.toString('utf8')) as { subject?: unknown[] }).subject?.length ?? 0,
        signed_at: now.toISOString(),
      },
      now,
    );
    return result;
  }

  /** The statement of a build's records, signed now (not stored). */
  private async sign(build: Build): Promise<DsseEnvelope> {
    const [history, artifacts, images, ancestry] = await Promise.all([
      this.history(build.id),
      this.deps.artifacts.listForBuild(build.id),
      this.deps.lineage.images(build.id),
      this.deps.lineage.ancestry(build.id),
    ]);
    const related = async (id: string | null | undefined) => {
      if (!id) return null;
      const other = await this.deps.builds.get(id);
      return other ? { build: other, artifacts: await this.deps.artifacts.listForBuild(id) } : null;
    };
    const [parent, base] = await Promise.all([
      related(build.parent_id ?? ancestry?.parent_id),
      related(ancestry?.base_build_id),
    ]);
    const statement = provenanceStatement({
      build,
      history,
      artifacts,
      images,
      parent,
      base,
      serviceVersion: this.deps.serviceVersion,
    });
    const body = Buffer.from(JSON.stringify(statement), 'utf8');
    const { keyid, signature } = await this.deps.signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, body));
    // Keep the public key under its keyid, so this envelope verifies after the key rotates.
    const current = await this.deps.signer.current();
    if (current.keyid === keyid)
      await this.deps.store.putOnce(signingKeyObjectKey(keyid), current.pem, PEM_CONTENT_TYPE);
    return {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: body.toString('base64'),
      signatures: [{ keyid, sig: signature.toString('base64') }],
    };
  }

  private async history(buildId: string): Promise<HistoryEntry[]> {
    const out: HistoryEntry[] = [];
    let start: Key | undefined;
    do {
      const page = await this.deps.builds.history(buildId, 500, start);
      out.push(...page.items);
      start = page.next;
    } while (start);
    return out;
  }

  /** GET /builds/{id}/provenance: the stored envelope of a completed build. */
  async envelope(buildId: string): Promise<DsseEnvelope> {
    const build = await this.deps.builds.get(buildId);
    if (!build) throw new AppError('not_found', `Build ${buildId} not found`);
    if (build.status !== 'completed')
      throw new AppError(
        'not_completed',
        `Build ${buildId} is ${build.status}: provenance is signed when the build completes`,
        { status: build.status },
      );
    const text = await this.deps.store.getText(provenanceObjectKey(buildId));
    if (text === null)
      throw new AppError(
        'not_found',
        `Build ${buildId} has no signed provenance yet: it is signed within seconds of completion (builds completed before provenance existed have none)`,
        { status: build.status },
      );
    return JSON.parse(text) as DsseEnvelope;
  }

  /** The current public key, or (with a keyid) any key that ever signed. */
  async publicKey(keyid?: string): Promise<{ keyid: string; pem: string }> {
    const current = await this.deps.signer.current();
    if (!keyid || keyid === current.keyid) return current;
    if (!KEYID.test(keyid)) throw new AppError('not_found', `No signing key ${keyid}`);
    const pem = await this.deps.store.getText(signingKeyObjectKey(keyid));
    if (pem === null) throw new AppError('not_found', `No signing key ${keyid}`);
    return { keyid, pem };
  }
}

/** The builds a batch of stream records completed: history inserts that moved the build to completed. */
export function completedBuildIds(items: readonly Record<string, unknown>[]): string[] {
  const ids = items
    .filter(
      (i) => i.type === 'history' && i.build_status === 'completed' && i.from_build_status !== 'completed',
    )
    .map((i) => String(i.build_id));
  return [...new Set(ids)];
}

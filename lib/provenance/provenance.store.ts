/**
 * Where provenance lives: the envelope in the artifacts bucket beside the build's artifacts
 * (lib/artifacts/artifact.keys.ts), every signing public key under its keyid in the same bucket,
 * and the `Provenance Signed` outbox item in the table (published by the change stream like every
 * event). The only S3 and DynamoDB code of lib/provenance.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { storeUnavailable } from '../artifacts/object-store';
import { buildKey } from '../builds/build.keys';
import { type DocumentClient, PutCommand } from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { TTL_ATTRIBUTE } from '../db/table-definition';
import { DETAIL_TYPES, OUTBOX_PREFIX, OUTBOX_TTL_SECONDS } from '../events/events';

export const provenanceEventKey = (buildId: string) => ({
  pk: buildKey(buildId).pk,
  sk: `${OUTBOX_PREFIX}provenance`,
});

const missing = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};
/** A conditional PUT (If-None-Match: *) that found the object there already. */
const alreadyThere = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.$metadata?.httpStatusCode === 412 || e.name === 'PreconditionFailed';
};

export class ProvenanceStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly db?: DocumentClient,
    private readonly tableName?: string,
  ) {}

  async getText(key: string): Promise<string | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await res.Body?.transformToString('utf8')) ?? null;
    } catch (error) {
      if (missing(error)) return null;
      throw storeUnavailable(this.bucket, error);
    }
  }

  /** Writes the object unless it exists (If-None-Match: *); false when it was there already. */
  async putOnce(key: string, body: string, contentType: string): Promise<boolean> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      if (alreadyThere(error)) return false;
      throw storeUnavailable(this.bucket, error);
    }
  }

  /** The outbox item of the `Provenance Signed` event: written once per build (its key is the flag). */
  async recordSigned(detail: Record<string, unknown> & { build_id: string }, now: Date): Promise<boolean> {
    if (!this.db || !this.tableName) throw new Error('the provenance store has no table');
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...provenanceEventKey(detail.build_id),
            type: 'event',
            detail_type: DETAIL_TYPES.provenanceSigned,
            detail,
            created_at: now.toISOString(),
            [TTL_ATTRIBUTE]: Math.floor(now.getTime() / 1000) + OUTBOX_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }
}

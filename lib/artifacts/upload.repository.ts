/**
 * The table's record of multipart uploads: one item per artifact's current upload (sk UPL#…) and
 * one per part the client confirmed (sk UPLPART#<upload id>#<n>). The confirmed parts live here
 * rather than being asked of S3 (ListParts) so resume works the same on AWS and on the local S3
 * server, which has no ListParts; one item per part keeps a 10,000-part upload far below the
 * 400 KB item limit.
 */

import type { DocumentClient } from '../db/commands';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  UpdateCommand,
} from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { type TransactItem, Transaction } from '../db/transaction';
import { UPLOAD_PART_PREFIX, uploadKey, uploadPartKey } from './artifact.keys';

/**
 * `completing` while one completion job (its `job` id, under a lease until `lease_until`) assembles
 * the parts in S3 and verifies the object; then `verified`, or `failed` with a `reason`.
 * `completed` is how a version before asynchronous completion recorded a finished upload (read as
 * `verified`).
 */
export type UploadStatus = 'open' | 'completing' | 'verified' | 'failed' | 'aborted' | 'completed';

/** Why a completion failed: S3 refused the assembly, or the assembled object did not verify. */
export interface UploadFailure {
  code: string;
  message: string;
}

export interface Upload {
  build_id: string;
  state_code: number;
  name: string;
  upload_id: string;
  object_key: string;
  size_bytes: number;
  /** `sha256:<hex>` of the whole file, computed by the client in the same pass as the CRCs. */
  checksum: string;
  /** Base64 full-object CRC32, sent to S3 at completion (S3 verifies the assembly with it). */
  crc32: string;
  part_size: number;
  part_count: number;
  status: UploadStatus;
  /** The completion job: a new id each time a completion is started or restarted. */
  job?: string;
  /** Until when the job's worker may still be running; after it, a completion asked again restarts the job. */
  lease_until?: string;
  /** Who asked for the completion (the actor of the verification in history). */
  completing_by?: string;
  /** Set when `failed`. */
  reason?: UploadFailure;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface ConfirmedPart {
  part_number: number;
  etag: string;
  crc32: string;
}

export class UploadRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  async get(buildId: string, stateCode: number, name: string): Promise<Upload | null> {
    const res = await this.db
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: uploadKey(buildId, stateCode, name),
          ConsistentRead: true,
        }),
      )
      .catch(translateStoreError);
    return res.Item ? strip<Upload>(res.Item) : null;
  }

  /**
   * Writes `upload` as the artifact's current upload, only if the current one is still
   * `replacing` (its upload id) or there is none; false when another writer got there first.
   */
  put(upload: Upload, replacing: string | null): Promise<boolean> {
    return this.putIf(upload, ...replacingCondition(replacing));
  }

  /**
   * `put`, and `with` (another record's change, its own condition) in the same transaction: both
   * or neither. False when either condition fails (another writer got there first).
   */
  async putWith(upload: Upload, replacing: string | null, other: TransactItem): Promise<boolean> {
    const result = await new Transaction()
      .add('upload', { Put: this.putParams(upload, ...replacingCondition(replacing)) })
      .add('other', other)
      .send(this.db);
    return result.committed;
  }

  /**
   * Moves the upload from `from` to `to` (with `changes`); false if it is not (or no longer) that
   * upload in `from`. Out of `completing`, only the job that holds it (`u.job`) may move it.
   */
  transition(
    u: Upload,
    from: UploadStatus,
    to: UploadStatus,
    at: string,
    changes: Partial<Upload> = {},
  ): Promise<boolean> {
    const byJob = from === 'completing' && u.job !== undefined;
    return this.putIf(
      { ...u, ...changes, status: to, updated_at: at },
      `upload_id = :u AND #s = :from${byJob ? ' AND job = :job' : ''}`,
      { ':u': u.upload_id, ':from': from, ...(byJob ? { ':job': u.job } : {}) },
    );
  }

  /** Moves an open upload to `status`; false if it is not (or no longer) that open upload. */
  close(u: Upload, status: 'aborted', at: string): Promise<boolean> {
    return this.transition(u, 'open', status, at);
  }

  /**
   * Starts a completion job: an open upload, or one `completing` under job `u.job` whose lease
   * ended before `now` (its worker was lost), becomes `completing` under `job` until `leaseUntil`.
   * The write itself is the job's trigger (the table stream's completion consumer). False when
   * another caller started or restarted it first.
   */
  claim(u: Upload, job: string, leaseUntil: string, actorId: string, now: string): Promise<boolean> {
    const item: Upload = {
      ...u,
      status: 'completing',
      job,
      lease_until: leaseUntil,
      completing_by: actorId,
      updated_at: now,
    };
    if (u.status !== 'completing')
      return this.putIf(item, 'upload_id = :u AND #s = :open', { ':u': u.upload_id, ':open': 'open' });
    // A `completing` record of a version before jobs has neither job nor lease: restartable.
    if (u.job === undefined)
      return this.putIf(item, 'upload_id = :u AND #s = :completing AND attribute_not_exists(job)', {
        ':u': u.upload_id,
        ':completing': 'completing',
      });
    return this.putIf(item, 'upload_id = :u AND #s = :completing AND job = :job AND lease_until < :now', {
      ':u': u.upload_id,
      ':completing': 'completing',
      ':job': u.job,
      ':now': now,
    });
  }

  /**
   * Writes `upload` as its artifact's upload record if `condition` holds (`#s` names `status`);
   * false when it does not, any other store failure translated.
   */
  private async putIf(
    upload: Upload,
    condition: string,
    values: Record<string, unknown> = {},
  ): Promise<boolean> {
    try {
      await this.db.send(new PutCommand(this.putParams(upload, condition, values)));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  private putParams(upload: Upload, condition: string, values: Record<string, unknown>) {
    return {
      TableName: this.tableName,
      Item: { ...uploadKey(upload.build_id, upload.state_code, upload.name), type: 'upload', ...upload },
      ConditionExpression: condition,
      // DynamoDB refuses names or values the expression does not use.
      ...(condition.includes('#s') ? { ExpressionAttributeNames: { '#s': 'status' } } : {}),
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
  }

  /** Extends the lease of the job holding a completing upload; false if that job no longer holds it. */
  async renew(u: Upload, leaseUntil: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: uploadKey(u.build_id, u.state_code, u.name),
          UpdateExpression: 'SET lease_until = :l',
          ConditionExpression: 'upload_id = :u AND #s = :completing AND job = :job',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':l': leaseUntil,
            ':u': u.upload_id,
            ':completing': 'completing',
            ':job': u.job ?? '',
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  /** Records parts S3 accepted (idempotent: a part sent again overwrites its own record). */
  async confirmParts(u: Upload, parts: readonly ConfirmedPart[]): Promise<void> {
    await Promise.all(
      parts.map((p) =>
        this.db
          .send(
            new PutCommand({
              TableName: this.tableName,
              Item: {
                ...uploadPartKey(u.build_id, u.upload_id, p.part_number),
                type: 'upload_part',
                upload_id: u.upload_id,
                ...p,
              },
            }),
          )
          .catch(translateStoreError),
      ),
    );
  }

  /** Every confirmed part of an upload, in part order. */
  async parts(u: Pick<Upload, 'build_id' | 'upload_id'>): Promise<ConfirmedPart[]> {
    const out: ConfirmedPart[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res: QueryCommandOutput = await this.db
        .send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': uploadKey(u.build_id, 0, '').pk,
              ':prefix': `${UPLOAD_PART_PREFIX}${u.upload_id}#`,
            },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        )
        .catch(translateStoreError);
      for (const item of res.Items ?? []) {
        const { part_number, etag, crc32 } = item as ConfirmedPart;
        out.push({ part_number, etag, crc32 });
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Open (or stuck completing) uploads of every build (the sweeper's scan; not a request path). */
  async *openUploads(): AsyncGenerator<Upload> {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.db
        .send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: '#t = :upload AND #s IN (:open, :completing)',
            ExpressionAttributeNames: { '#t': 'type', '#s': 'status' },
            ExpressionAttributeValues: { ':upload': 'upload', ':open': 'open', ':completing': 'completing' },
            ExclusiveStartKey: start,
          }),
        )
        .catch(translateStoreError);
      for (const item of res.Items ?? []) yield strip<Upload>(item);
      start = res.LastEvaluatedKey;
    } while (start);
  }
}

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, type: _type, ...rest } = item;
  return rest as T;
}

/** The condition of writing an artifact's current upload: it is still `replacing`, or there is none. */
function replacingCondition(replacing: string | null): [string, Record<string, unknown>] {
  return replacing ? ['upload_id = :u', { ':u': replacing }] : ['attribute_not_exists(pk)', {}];
}

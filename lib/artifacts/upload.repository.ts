/**
 * The table's record of multipart uploads: one item per artifact's current upload (sk UPL#…) and
 * one per part the client confirmed (sk UPLPART#<upload id>#<n>). The confirmed parts live here
 * rather than being asked of S3 (ListParts) so resume works the same on AWS and on the local S3
 * server, which has no ListParts; one item per part keeps a 10,000-part upload far below the
 * 400 KB item limit.
 */

import type { DocumentClient } from '../db/commands';
import { GetCommand, PutCommand, QueryCommand, type QueryCommandOutput, ScanCommand } from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import { UPLOAD_PART_PREFIX, uploadKey, uploadPartKey } from './artifact.keys';

/** `completing` while one caller assembles the parts in S3 (a second completion must not run). */
export type UploadStatus = 'open' | 'completing' | 'completed' | 'aborted';

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
  async put(upload: Upload, replacing: string | null): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...uploadKey(upload.build_id, upload.state_code, upload.name), type: 'upload', ...upload },
          ...(replacing
            ? {
                ConditionExpression: 'upload_id = :u',
                ExpressionAttributeValues: { ':u': replacing },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  /** Moves the upload from `from` to `to`; false if it is not (or no longer) that upload in `from`. */
  async transition(u: Upload, from: UploadStatus, to: UploadStatus, at: string): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...uploadKey(u.build_id, u.state_code, u.name),
            type: 'upload',
            ...u,
            status: to,
            updated_at: at,
          },
          ConditionExpression: 'upload_id = :u AND #s = :from',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':u': u.upload_id, ':from': from },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  /** Moves an open upload to `status`; false if it is not (or no longer) that open upload. */
  close(u: Upload, status: 'completed' | 'aborted', at: string): Promise<boolean> {
    return this.transition(u, 'open', status, at);
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

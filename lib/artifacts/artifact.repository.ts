import {
  type DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '../db/commands';
import { isConditionFailure, translateStoreError } from '../db/errors';
import type { TransactItem } from '../db/transaction';
import { ARTIFACT_PREFIX, artifactKey } from './artifact.keys';
import type { Artifact } from './artifact.model';

/** The DynamoDB copy of artifact records, in the build's partition (sk ART#<code>#<name>). */
export class ArtifactRepository {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
  ) {}

  async get(buildId: string, stateCode: number, name: string): Promise<Artifact | null> {
    const res = await this.db
      .send(
        new GetCommand({
          TableName: this.tableName,
          Key: artifactKey(buildId, stateCode, name),
          ConsistentRead: true,
        }),
      )
      .catch(translateStoreError);
    return res.Item ? toArtifact(res.Item) : null;
  }

  /** Writes the record unless one exists for this build, state and name; false if one does. */
  async create(artifact: Artifact): Promise<boolean> {
    try {
      await this.db.send(new PutCommand(this.createItem(artifact).Put));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  /** The same write as `create`, as a part of a larger transaction (a state report's artifacts). */
  createItem(artifact: Artifact) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...artifactKey(artifact.build_id, artifact.state_code, artifact.name),
          type: 'artifact',
          ...artifact,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    } satisfies TransactItem;
  }

  /**
   * The replacement of an unverified managed artifact's file facts as a transaction part, on the
   * condition that it is still unverified with the checksum `a` had (so a replacement by another
   * caller in between refuses it): the upload that brings the new file commits with it.
   */
  replaceUnverifiedItem(a: Artifact, facts: { checksum: string; size_bytes: number; format: string | null }) {
    return {
      Update: {
        TableName: this.tableName,
        Key: artifactKey(a.build_id, a.state_code, a.name),
        UpdateExpression: 'SET checksum = :c, size_bytes = :s, #format = :f',
        ConditionExpression:
          'attribute_exists(pk) AND managed = :t AND verified = :false AND checksum = :was',
        ExpressionAttributeNames: { '#format': 'format' },
        ExpressionAttributeValues: {
          ':c': facts.checksum,
          ':s': facts.size_bytes,
          ':f': facts.format,
          ':t': true,
          ':false': false,
          ':was': a.checksum,
        },
      },
    } satisfies TransactItem;
  }

  async markVerified(
    a: Artifact,
    facts: {
      checksum: string;
      size_bytes: number;
      verified_at: string;
      etag: string | null;
      versionId: string | null;
    },
  ): Promise<Artifact> {
    const res = await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: artifactKey(a.build_id, a.state_code, a.name),
          UpdateExpression:
            'SET verified = :t, verified_at = :at, checksum = :c, size_bytes = :s, verified_etag = :e, verified_version_id = :v',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':t': true,
            ':at': facts.verified_at,
            ':c': facts.checksum,
            ':s': facts.size_bytes,
            ':e': facts.etag,
            ':v': facts.versionId,
          },
          ReturnValues: 'ALL_NEW',
        }),
      )
      .catch(translateStoreError);
    return toArtifact(res.Attributes!);
  }

  /**
   * Unverifies an artifact, for the transaction that records it in the build's history; only if
   * it is still verified as `a` was (a concurrent re-verification or invalidation wins).
   */
  unverifyItem(a: Artifact) {
    return {
      Update: {
        TableName: this.tableName,
        Key: artifactKey(a.build_id, a.state_code, a.name),
        UpdateExpression:
          'SET verified = :f, verified_at = :null, verified_etag = :null, verified_version_id = :null',
        ConditionExpression: 'verified = :t AND verified_at = :at',
        ExpressionAttributeValues: { ':f': false, ':t': true, ':null': null, ':at': a.verified_at },
      },
    } satisfies TransactItem;
  }

  /** Every artifact of a build, ordered by state code then name. */
  async listForBuild(buildId: string): Promise<Artifact[]> {
    const out: Artifact[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res: QueryCommandOutput = await this.db
        .send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': artifactKey(buildId, 0, '').pk, ':prefix': ARTIFACT_PREFIX },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        )
        .catch(translateStoreError);
      out.push(...(res.Items ?? []).map(toArtifact));
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

function toArtifact(item: Record<string, unknown>): Artifact {
  const { pk: _pk, sk: _sk, type: _type, ...rest } = item;
  return rest as unknown as Artifact;
}

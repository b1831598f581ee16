/**
 * The only DynamoDB code for images, ancestry, descendants, revocation markers and channels
 * (keys in lineage.keys.ts; access patterns in docs/DATA-MODEL.md). Every read here is a GetItem,
 * a BatchGetItem or a Query of one partition: nothing scans. Writes are transaction parts that
 * the services compose (lib/db/transaction.ts) and refusals come back by part name.
 */
import { type DocumentClient, GetCommand, QueryCommand } from '../db/commands';
import { translateStoreError } from '../db/errors';
import { batchGetAll, queryAll, withoutKeys } from '../db/items';
import { INDEXES, TTL_ATTRIBUTE } from '../db/table-definition';
import type { TransactItem } from '../db/transaction';
import { OUTBOX_TTL_SECONDS } from '../events/events';
import {
  ancestryKey,
  CHANNEL_HISTORY_PREFIX,
  CHANNELS_PARTITION,
  channelEventKey,
  channelHistoryKey,
  channelIndexKeys,
  channelKey,
  DESCENDANT_PREFIX,
  descendantIdOf,
  descendantKey,
  FORK_CHILD_PREFIX,
  forkChildKey,
  IMAGE_PREFIX,
  imageEventKey,
  imageKey,
  lineageEventKey,
  revocationKey,
} from './lineage.keys';

type Key = Record<string, string | number>;

export interface Ancestry {
  build_id: string;
  parent_id: string | null;
  base_build_id: string | null;
  /** Every ancestor, nearest first (direct parent and base, then theirs). */
  ancestors: string[];
}

export interface Descendant {
  build_id: string;
  ancestor_id: string;
  parent_id: string | null;
  base_build_id: string | null;
}

/** A build's revocation marker; `revoked_at` is present only while it is revoked. */
export interface Revocation {
  revocation_id: string;
  root_id: string;
  reason: string;
  revoked_at: string;
  revoked_by: string;
}
export type Marker = Partial<Revocation> & { build_id: string };

export interface ImageRecord {
  build_id: string;
  cloud: string;
  region: string;
  image_id: string;
  name: string | null;
  account: string | null;
  metadata: Record<string, unknown>;
  published_at: string;
  published_by: string;
}

export interface ChannelRecord {
  name: string;
  build_id: string;
  version: number;
  reason: string | null;
  assigned_at: string;
  assigned_by: string;
}

export interface ChannelHistoryRecord extends ChannelRecord {
  previous_build_id: string | null;
}

export interface Page<T> {
  items: T[];
  next?: Key;
}

const event = (key: { pk: string; sk: string }, detailType: string, detail: object, now: string) => ({
  ...key,
  type: 'event',
  detail_type: detailType,
  detail,
  created_at: now,
  [TTL_ATTRIBUTE]: Math.floor(Date.parse(now) / 1000) + OUTBOX_TTL_SECONDS,
});

export class LineageRepository {
  constructor(
    private readonly db: DocumentClient,
    readonly tableName: string,
  ) {}

  private async get(key: { pk: string; sk: string }): Promise<Record<string, unknown> | null> {
    const res = await this.db
      .send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
      .catch(translateStoreError);
    return res.Item ?? null;
  }

  // --- ancestry and descendants -------------------------------------------------------------

  async ancestry(buildId: string): Promise<Ancestry | null> {
    const item = await this.get(ancestryKey(buildId));
    return item ? withoutKeys<Ancestry>(item) : null;
  }

  /** The parts a new build's transaction adds: its ancestry, an edge under each ancestor, a check of each marker. */
  newBuildParts(ancestry: Ancestry, createdAt: string): Record<string, TransactItem> {
    const parts: Record<string, TransactItem> = {
      ancestry: {
        Put: {
          TableName: this.tableName,
          Item: { ...ancestryKey(ancestry.build_id), type: 'ancestry', ...ancestry },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    };
    for (const ancestor of ancestry.ancestors) {
      const edge: Descendant & { created_at: string } = {
        build_id: ancestry.build_id,
        ancestor_id: ancestor,
        parent_id: ancestry.parent_id,
        base_build_id: ancestry.base_build_id,
        created_at: createdAt,
      };
      parts[`descendant:${ancestor}`] = {
        Put: {
          TableName: this.tableName,
          Item: { ...descendantKey(ancestor, ancestry.build_id), type: 'descendant', ...edge },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      };
      parts[`${UNREVOKED}${ancestor}`] = this.unrevokedCheck(ancestor);
    }
    if (ancestry.parent_id)
      parts.fork_child = {
        Put: {
          TableName: this.tableName,
          Item: {
            ...forkChildKey(ancestry.parent_id, ancestry.build_id),
            type: 'fork_child',
            build_id: ancestry.build_id,
            parent_id: ancestry.parent_id,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      };
    return parts;
  }

  /** The ids of a build's fork children (every fork), by id, up to `limit`: consistent Queries of its partition. */
  async forkChildren(buildId: string, limit: number): Promise<string[]> {
    const items = await queryAll(
      this.db,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': forkChildKey(buildId, '').pk, ':prefix': FORK_CHILD_PREFIX },
        ConsistentRead: true,
      },
      { limit },
    );
    return items.map((i) => i.build_id as string);
  }

  /** Holds only while `buildId` is not revoked: the same transaction then cannot commit under a revocation. */
  unrevokedCheck(buildId: string): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: revocationKey(buildId),
        ConditionExpression: 'attribute_not_exists(#revokedAt)',
        ExpressionAttributeNames: { '#revokedAt': 'revoked_at' },
      },
    };
  }

  /** A page of a build's descendants (every generation), by id: one consistent Query of its partition. */
  async descendants(buildId: string, limit: number, start?: Key): Promise<Page<Descendant>> {
    const res = await this.db
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': descendantKey(buildId, '').pk, ':prefix': DESCENDANT_PREFIX },
          ConsistentRead: true,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      )
      .catch(translateStoreError);
    return {
      items: (res.Items ?? []).map((i) => ({
        ...withoutKeys<Descendant>(i),
        build_id: descendantIdOf(i.sk as string),
      })),
      next: res.LastEvaluatedKey as Key | undefined,
    };
  }

  // --- revocation markers -------------------------------------------------------------------

  async marker(buildId: string): Promise<Marker | null> {
    const item = await this.get(revocationKey(buildId));
    return item ? withoutKeys<Marker>(item) : null;
  }

  /** Markers of these builds (those that have one), by build id. */
  async markers(buildIds: string[]): Promise<Map<string, Marker>> {
    if (buildIds.length === 0) return new Map();
    const items = await batchGetAll(
      this.db,
      this.tableName,
      [...new Set(buildIds)].map((id) => revocationKey(id)),
      { consistent: true },
    );
    return new Map(items.map((i) => [i.build_id as string, withoutKeys<Marker>(i)]));
  }

  /**
   * Marks a build revoked: only if it is not revoked, or (`replacing`) if that revocation still marks it.
   * The marker keeps no older revocation: the build's history has each one.
   */
  revokePart(buildId: string, revocation: Revocation, replacing?: string): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...revocationKey(buildId), type: 'revocation', build_id: buildId, ...revocation },
        ...(replacing
          ? {
              ConditionExpression: '#rid = :rid',
              ExpressionAttributeNames: { '#rid': 'revocation_id' },
              ExpressionAttributeValues: { ':rid': replacing },
            }
          : {
              ConditionExpression: 'attribute_not_exists(#revokedAt)',
              ExpressionAttributeNames: { '#revokedAt': 'revoked_at' },
            }),
      },
    };
  }

  /** Clears the marker, only while this revocation is the one marking the build. */
  restorePart(buildId: string, revocationId: string, now: string, actor: string): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...revocationKey(buildId),
          type: 'revocation',
          build_id: buildId,
          restored_at: now,
          restored_by: actor,
          restored_revocation_id: revocationId,
        },
        ConditionExpression: '#rid = :rid AND attribute_exists(#revokedAt)',
        ExpressionAttributeNames: { '#rid': 'revocation_id', '#revokedAt': 'revoked_at' },
        ExpressionAttributeValues: { ':rid': revocationId },
      },
    };
  }

  /** The outbox item of a Build Revoked / Build Restored event (lib/events), keyed by the build version. */
  lineageEventPart(
    buildId: string,
    version: number,
    detailType: string,
    detail: object,
    now: string,
  ): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: event(lineageEventKey(buildId, version), detailType, detail, now),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  // --- images -------------------------------------------------------------------------------

  async images(buildId: string): Promise<ImageRecord[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': imageKey(buildId, '', '', '').pk, ':prefix': IMAGE_PREFIX },
      ConsistentRead: true,
    });
    return items.map((i) => withoutKeys<ImageRecord>(i));
  }

  async image(buildId: string, cloud: string, region: string, imageId: string): Promise<ImageRecord | null> {
    const item = await this.get(imageKey(buildId, cloud, region, imageId));
    return item ? withoutKeys<ImageRecord>(item) : null;
  }

  imageParts(image: ImageRecord, detailType: string, detail: object): Record<string, TransactItem> {
    const { build_id, cloud, region, image_id } = image;
    return {
      image: {
        Put: {
          TableName: this.tableName,
          Item: { ...imageKey(build_id, cloud, region, image_id), type: 'image', ...image },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      event: {
        Put: {
          TableName: this.tableName,
          Item: event(
            imageEventKey(build_id, cloud, region, image_id),
            detailType,
            detail,
            image.published_at,
          ),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    };
  }

  // --- channels -----------------------------------------------------------------------------

  async channel(name: string): Promise<ChannelRecord | null> {
    const item = await this.get(channelKey(name));
    return item ? withoutKeys<ChannelRecord>(item) : null;
  }

  /** Every channel, by name: one partition of the by-kind index (a team's channels, a small set). */
  async channels(): Promise<ChannelRecord[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: INDEXES.byKind.name,
      KeyConditionExpression: '#ipk = :ipk',
      ExpressionAttributeNames: { '#ipk': INDEXES.byKind.partitionKey },
      ExpressionAttributeValues: { ':ipk': CHANNELS_PARTITION },
    });
    return items.map((i) => withoutKeys<ChannelRecord>(i));
  }

  async channelHistory(name: string, limit: number, start?: Key): Promise<Page<ChannelHistoryRecord>> {
    const res = await this.db
      .send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': channelKey(name).pk, ':prefix': CHANNEL_HISTORY_PREFIX },
          ConsistentRead: true,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      )
      .catch(translateStoreError);
    return {
      items: (res.Items ?? []).map((i) => withoutKeys<ChannelHistoryRecord>(i)),
      next: res.LastEvaluatedKey as Key | undefined,
    };
  }

  /**
   * An assignment: the channel put, conditioned on the version read (no two assignments take the
   * same number), its history entry (written once, never changed) and its event.
   */
  assignParts(
    entry: ChannelHistoryRecord,
    before: ChannelRecord | null,
    detailType: string,
    detail: object,
  ): Record<string, TransactItem> {
    const { previous_build_id: _, ...channel } = entry;
    return {
      channel: {
        Put: {
          TableName: this.tableName,
          Item: { ...channelKey(entry.name), ...channelIndexKeys(entry.name), type: 'channel', ...channel },
          ...(before
            ? {
                ConditionExpression: '#version = :version',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':version': before.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        },
      },
      channel_history: {
        Put: {
          TableName: this.tableName,
          Item: { ...channelHistoryKey(entry.name, entry.version), type: 'channel_history', ...entry },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      event: {
        Put: {
          TableName: this.tableName,
          Item: event(channelEventKey(entry.name, entry.version), detailType, detail, entry.assigned_at),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    };
  }
}

/** Prefix of the names of the parts that check an ancestor is not revoked. */
export const UNREVOKED = 'unrevoked:';

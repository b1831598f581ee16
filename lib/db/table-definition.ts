/**
 * The single table, defined once. CDK (infra/) and DynamoDB Local (local/, tests) both build
 * the table from this object, so indexes cannot drift between the cloud and the laptop.
 * docs/DATA-MODEL.md explains each key and the access pattern it serves.
 */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
export const TTL_ATTRIBUTE = 'ttl';
/** The table's change stream: the only source of published events (lib/events). */
export const STREAM_VIEW_TYPE = 'NEW_AND_OLD_IMAGES';

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  /**
   * Non-key attributes copied into the index, so filters work without a fetch of the item;
   * 'ALL' copies whole items (small, rarely written collections: keys, users, reference data).
   */
  include: readonly string[] | 'ALL';
}

/** Build list indexes project only the filterable fields: reports that change other fields write no index. */
const LIST_FIELDS = ['project_id', 'platform_id', 'status'] as const;

export const INDEXES = {
  byProject: { name: 'by-project', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', include: LIST_FIELDS },
  byPlatform: { name: 'by-platform', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', include: LIST_FIELDS },
  byStatus: { name: 'by-status', partitionKey: 'gsi3pk', sortKey: 'gsi3sk', include: LIST_FIELDS },
  byCreated: { name: 'by-created', partitionKey: 'gsi4pk', sortKey: 'gsi4sk', include: LIST_FIELDS },
  /** Lists of small collections: API keys, users, each kind of reference data (sparse: only they set gsi5pk). */
  byKind: { name: 'by-kind', partitionKey: 'gsi5pk', sortKey: 'gsi5sk', include: 'ALL' },
  /**
   * Builds that are running (status in_progress or failed), through their small live item (sparse,
   * sharded): stuck detection and the dashboard's active list read it, never the whole table.
   */
  byActive: { name: 'by-active', partitionKey: 'gsi6pk', sortKey: 'gsi6sk', include: 'ALL' },
  /** The children of a fork, by parent (sparse: only children set gsi7pk), oldest first. */
  byParent: { name: 'by-parent', partitionKey: 'gsi7pk', sortKey: 'gsi7sk', include: LIST_FIELDS },
} as const satisfies Record<string, IndexDefinition>;

export const ALL_INDEXES: readonly IndexDefinition[] = Object.values(INDEXES);

/** An index's projection in the DynamoDB API's shape (CreateTable, UpdateTable). */
export const indexProjection = (index: IndexDefinition) =>
  index.include === 'ALL'
    ? { ProjectionType: 'ALL' as const }
    : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.include] };

/** The only place that knows how build and history items are keyed. */
import { INDEXES } from '../db/table-definition';
import type { Build } from './build.model';

const SEQ_WIDTH = 10;

export const buildKey = (id: string) => ({ pk: `BUILD#${id}`, sk: 'BUILD' });

export const historyKey = (id: string, seq: number) => ({
  pk: `BUILD#${id}`,
  sk: `HIST#${String(seq).padStart(SEQ_WIDTH, '0')}`,
});
export const HISTORY_PREFIX = 'HIST#';

/** Patterns of the keys above, for checking the start key a pagination cursor carries. */
const ID = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
export const BUILD_PK_PATTERN = new RegExp(`^BUILD#${ID}$`);
export const HISTORY_SK_PATTERN = new RegExp(`^HIST#\\d{${SEQ_WIDTH}}$`);
export const LIST_SK_PATTERN = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z#${ID}$`);

/** Newest-first order of every list index: creation time, then id to break ties. */
const listSortKey = (build: Build) => `${build.created_at}#${build.id}`;

export function buildIndexKeys(build: Build) {
  const sk = listSortKey(build);
  return {
    [INDEXES.byProject.partitionKey]: `PROJECT#${build.project_id}`,
    [INDEXES.byProject.sortKey]: sk,
    [INDEXES.byPlatform.partitionKey]: `PLATFORM#${build.platform_id}`,
    [INDEXES.byPlatform.sortKey]: sk,
    [INDEXES.byStatus.partitionKey]: `STATUS#${build.status}`,
    [INDEXES.byStatus.sortKey]: sk,
    [INDEXES.byCreated.partitionKey]: 'BUILDS',
    [INDEXES.byCreated.sortKey]: sk,
    ...(build.parent_id
      ? {
          [INDEXES.byParent.partitionKey]: parentPartition(build.parent_id),
          [INDEXES.byParent.sortKey]: sk,
        }
      : {}),
  };
}

/** A parent's roll-up of its children (`BUILD#<parent>` / `CHILDREN`): written by the stream aggregator only. */
export const childrenKey = (parentId: string) => ({ pk: `BUILD#${parentId}`, sk: 'CHILDREN' });
export const parentPartition = (parentId: string) => `PARENT#${parentId}`;

export const projectPartition = (projectId: string) => `PROJECT#${projectId}`;
export const platformPartition = (platformId: string) => `PLATFORM#${platformId}`;
export const statusPartition = (status: string) => `STATUS#${status}`;
export const ALL_BUILDS_PARTITION = 'BUILDS';

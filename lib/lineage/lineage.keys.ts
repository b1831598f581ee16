/**
 * The only place that knows how images, ancestry, revocation markers and channels are keyed
 * (docs/DATA-MODEL.md, "Lineage and channels"). Everything of one build lives in its own
 * partition (`BUILD#<id>`), beside the build item; a channel is a partition of its own.
 */
import { buildKey } from '../builds/build.keys';
import { INDEXES } from '../db/table-definition';

const SEQ_WIDTH = 10;
const pad = (seq: number) => String(seq).padStart(SEQ_WIDTH, '0');
const buildPk = (id: string) => buildKey(id).pk;

/** A published image of a build: one per cloud, region and image id. */
export const IMAGE_PREFIX = 'IMAGE#';
export const imageKey = (buildId: string, cloud: string, region: string, imageId: string) => ({
  pk: buildPk(buildId),
  sk: `${IMAGE_PREFIX}${cloud}#${region}#${imageId}`,
});

/** A build's ancestry, written once with the build: its direct parent/base and every ancestor. */
export const ancestryKey = (buildId: string) => ({ pk: buildPk(buildId), sk: 'ANCESTRY' });

/**
 * One item per (ancestor, descendant), in the ancestor's partition, written in the descendant's
 * create transaction: the descendants of a build are one consistent, paged Query of its partition.
 */
export const DESCENDANT_PREFIX = 'DESC#';
export const descendantKey = (ancestorId: string, descendantId: string) => ({
  pk: buildPk(ancestorId),
  sk: `${DESCENDANT_PREFIX}${descendantId}`,
});
export const descendantIdOf = (sk: string) => sk.slice(DESCENDANT_PREFIX.length);
const ID = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
export const DESCENDANT_SK_PATTERN = new RegExp(`^${DESCENDANT_PREFIX}${ID}$`);

/**
 * A fork child, in its parent's partition (besides its descendant edge): a fan-out parent's family
 * is one Query of these, however many builds descend from the parent as a base.
 */
export const FORK_CHILD_PREFIX = 'FORKCHILD#';
export const forkChildKey = (parentId: string, childId: string) => ({
  pk: buildPk(parentId),
  sk: `${FORK_CHILD_PREFIX}${childId}`,
});

/**
 * A build's revocation marker: `revoked_at` is present while it is revoked. Only revoke and
 * restore write it, so a new build's ConditionCheck on its ancestors' markers never conflicts
 * with their state reports (which write the build item).
 */
export const revocationKey = (buildId: string) => ({ pk: buildPk(buildId), sk: 'REVOCATION' });

/** Outbox items (lib/events): an image's Image Published, a lineage change's Build Revoked/Restored. */
export const imageEventKey = (buildId: string, cloud: string, region: string, imageId: string) => ({
  pk: buildPk(buildId),
  sk: `EVENT#image#${cloud}#${region}#${imageId}`,
});
export const lineageEventKey = (buildId: string, version: number) => ({
  pk: buildPk(buildId),
  sk: `EVENT#lineage#${pad(version)}`,
});

export const channelKey = (name: string) => ({ pk: `CHANNEL#${name}`, sk: 'CHANNEL' });
export const CHANNEL_HISTORY_PREFIX = 'HIST#';
export const channelHistoryKey = (name: string, seq: number) => ({
  pk: `CHANNEL#${name}`,
  sk: `${CHANNEL_HISTORY_PREFIX}${pad(seq)}`,
});
export const CHANNEL_HISTORY_SK_PATTERN = new RegExp(`^${CHANNEL_HISTORY_PREFIX}\\d{${SEQ_WIDTH}}$`);
export const channelEventKey = (name: string, seq: number) => ({
  pk: `CHANNEL#${name}`,
  sk: `EVENT#${pad(seq)}`,
});

/** Every channel, by name: the by-kind index's `CHANNELS` partition (small, a team's channels). */
export const CHANNELS_PARTITION = 'CHANNELS';
export const channelIndexKeys = (name: string) => ({
  [INDEXES.byKind.partitionKey]: CHANNELS_PARTITION,
  [INDEXES.byKind.sortKey]: name,
});
export const CHANNEL_PK_PATTERN = /^CHANNEL#[a-z0-9][a-z0-9._-]{0,99}$/;

/**
 * Keeps live items' position copies from the table's stream: a state report writes only its build
 * and history (lib/builds/build.service.ts), and its build item's stream record is copied here to
 * the live item (liveProjection), for stuck detection, the active index and the dashboard counts
 * that the aggregator takes from live items' own records. Idempotent without markers: each copy is
 * conditioned on an older version, so redelivered, reordered or concurrent records never move a
 * live item back, and changes that wrote their own copy (create, cancel …) are not written again.
 */

import type { Build } from '../builds/build.model';
import { liveProjection } from '../builds/live.item';
import type { DocumentClient } from '../db/commands';
import { UpdateCommand } from '../db/commands';
import { isConditionFailure } from '../db/errors';
import { withoutKeys } from '../db/items';

/** The part of a stream record read here (the aggregator's ChangeRecord has this shape). */
export interface BuildImageRecord {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
}

/** Live item updates sent at once. */
const CONCURRENCY = 8;

/**
 * Copies the newest build image of each build updated in `records` to its live item; records of
 * other items, and build writes that kept the version (a lease call setting lease_id), are skipped.
 * Returns how many live items were written. Store errors other than a refused condition are thrown
 * (the batch is retried; the copies already made are refused by their condition then).
 */
export async function projectLiveItems(
  db: DocumentClient,
  tableName: string,
  records: readonly BuildImageRecord[],
): Promise<number> {
  const newest = new Map<string, Build>();
  for (const record of records) {
    const image = record.newImage;
    // An insert is a create or fork, whose transaction wrote the live item itself (and the
    // aggregator's event source delivers only build updates: infra/stateless-stack.ts).
    if (record.eventName !== 'MODIFY' || image?.type !== 'build') continue;
    if (record.oldImage && record.oldImage.version === image.version) continue;
    const build = withoutKeys<Build>(image);
    const seen = newest.get(build.id);
    if (!seen || seen.version < build.version) newest.set(build.id, build);
  }
  const queue = [...newest.values()];
  let written = 0;
  const worker = async () => {
    for (let build = queue.shift(); build; build = queue.shift()) {
      const { Update } = liveProjection(tableName, build);
      try {
        await db.send(new UpdateCommand(Update!));
        written++;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return written;
}

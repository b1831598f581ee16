/**
 * Applies the counts of committed changes (stream records) to the aggregate items exactly once,
 * however often a record is delivered: a redelivered batch, a Lambda retry after a partial
 * failure, a restart from an older checkpoint, or two consumers reading the same shard.
 *
 * How: every counted record has an applied marker (`BUILD#<id>` / `AGG#<live|hist>#<version>`,
 * see aggregates.ts), and its ADDs commit in one transaction with the marker's
 * `attribute_not_exists` put. A record whose marker exists was applied before: the transaction is
 * refused naming that marker, the record is dropped, and the rest is sent again. Records are
 * grouped (their deltas on the same item summed) so a batch costs a few transactions, not one per
 * record. Markers expire by TTL after MARKER_TTL_S, long after a stream record can be redelivered
 * (streams keep records 24 hours).
 *
 * Why markers and not a per-shard checkpoint of sequence numbers: the Lambda event of a DynamoDB
 * stream does not say which shard a record came from, and shards split and close over time; a
 * marker per build and version needs neither, and lives in the build's own partition, so
 * consumers of different shards never write the same marker.
 */

import { COUNTED_BY, COUNTED_BY_STREAM } from '../builds/build.model';
import { FamilySettler } from '../builds/family';
import { FANNED_OUT, liveKey } from '../builds/live.item';
import { type DocumentClient, UpdateCommand } from '../db/commands';
import { isConditionFailure } from '../db/errors';
import { TTL_ATTRIBUTE } from '../db/table-definition';
import { MAX_TRANSACTION_ITEMS, type TransactItem, Transaction } from '../db/transaction';
import { projectLiveItems } from '../leases/live.projection';
import { backoffMs, sleep } from '../retry';
import {
  type AggregateDelta,
  type AppliedCost,
  type ChangeRecord,
  type Counts,
  countsOf,
  fanOutOf,
  mergeDeltas,
} from './aggregates';

export const MARKER_TTL_S = 3 * 86_400;
/** Retries of one group after TransactionConflict (real DynamoDB; consumers of other shards hit the same counters). */
const MAX_CONFLICT_RETRIES = 8;

export interface AggregationResult {
  /** Records that counted something and were applied by this call. */
  applied: number;
  /** Records that counted something but had been applied before (redelivered). */
  duplicates: number;
  /** Records that count nothing (heartbeats, lease calls, other items). */
  ignored: number;
  transactions: number;
  /** Fork parents whose live item this call marked as fanned out (counted when that write's record arrives). */
  fanned_out: number;
  /** Fork parents whose status this call moved to follow their children (lib/builds/family.ts). */
  families: number;
  /** Costs of the priced entries this call applied (not duplicates), summed by platform and currency. */
  costs: AppliedCost[];
}

export class Aggregator {
  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async apply(records: ChangeRecord[]): Promise<AggregationResult> {
    // State reports leave their live item to the stream: copied first, counted from its own record.
    await projectLiveItems(this.db, this.tableName, records);
    const counted = records.map(countsOf).filter((c): c is Counts => c !== null);
    const result: AggregationResult = {
      applied: 0,
      duplicates: 0,
      ignored: records.length - counted.length,
      transactions: 0,
      fanned_out: await this.markFannedOut(records),
      families: 0,
      costs: [],
    };
    // The same record twice in one batch (a consumer that re-reads) is one record.
    const unique = [...new Map(counted.map((c) => [`${c.marker.pk}|${c.marker.sk}`, c])).values()];
    result.duplicates += counted.length - unique.length;
    for (const group of groups(unique)) await this.applyGroup(group, result);
    // After the roll-ups moved, and for duplicates too (a crash between the two is redelivered):
    // each parent whose child's status these records carry follows its family, once per change.
    const settler = new FamilySettler(this.db, this.tableName, this.now);
    for (const parentId of familiesOf(records)) if (await settler.settle(parentId)) result.families++;
    return result;
  }

  /**
   * Marks the parents of the children these records fork (`fanOutOf`): one conditional write per
   * parent, on the parent's live item, outside any transaction, so no count waits on it. The write
   * is the same however often a record is delivered (the mark is only raised, and only while the
   * parent's live item is not past the forked version); its own stream record, or that of the
   * live copy that reaches the forked version, moves the parent's count, once.
   */
  private async markFannedOut(records: ChangeRecord[]): Promise<number> {
    const latest = new Map<string, number>();
    for (const fork of records.map(fanOutOf))
      if (fork) latest.set(fork.parentId, Math.max(latest.get(fork.parentId) ?? 0, fork.version));
    let marked = 0;
    for (const [parentId, version] of latest) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: liveKey(parentId),
            // Stamped like any write this version counts: the parent's image may be older.
            UpdateExpression: 'SET #mark = :v, #by = :by',
            // `<=`, not `=`: a report's live copy comes from the parent's own build record, which
            // may arrive after the child's (another partition, so in AWS maybe another shard). A
            // mark written ahead of that copy counts nothing (summaryBucket compares it with the
            // live item's version); the copy's record then moves the parent to fanned_out.
            ConditionExpression: '#version <= :v AND (attribute_not_exists(#mark) OR #mark < :v)',
            ExpressionAttributeNames: { '#mark': FANNED_OUT, '#version': 'version', '#by': COUNTED_BY },
            ExpressionAttributeValues: { ':v': version, ':by': COUNTED_BY_STREAM },
          }),
        );
        marked++;
      } catch (error) {
        // Marked before (a redelivery, another child), or the parent reported since: nothing to do.
        if (!isConditionFailure(error)) throw error;
      }
    }
    return marked;
  }

  private async applyGroup(initial: Counts[], result: AggregationResult): Promise<void> {
    let group = initial;
    for (let conflicts = 0; group.length > 0; ) {
      const tx = this.transaction(group);
      result.transactions++;
      const sent = await tx.send(this.db);
      if (sent.committed) {
        result.applied += group.length;
        for (const c of group) if (c.cost) addCost(result.costs, c.cost);
        return;
      }
      const done = group.filter((_, i) => sent.failed.has(markerPart(i)));
      if (done.length > 0) {
        result.duplicates += done.length;
        group = group.filter((_, i) => !sent.failed.has(markerPart(i)));
        continue;
      }
      if (!sent.conflict || ++conflicts > MAX_CONFLICT_RETRIES)
        throw new Error(`aggregate transaction refused by [${[...sent.failed]}]`);
      await sleep(backoffMs(conflicts, { baseMs: 10, capMs: 500 }));
    }
  }

  private transaction(group: Counts[]): Transaction {
    const ttl = Math.floor(this.now().getTime() / 1000) + MARKER_TTL_S;
    const tx = new Transaction();
    for (const [i, c] of group.entries()) {
      tx.add(markerPart(i), {
        Put: {
          TableName: this.tableName,
          Item: { ...c.marker, type: 'applied', [TTL_ATTRIBUTE]: ttl },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    for (const delta of mergeDeltas(group.flatMap((c) => c.deltas)))
      tx.add(`aggregate:${delta.key.pk}|${delta.key.sk}`, this.update(delta));
    return tx;
  }

  private update(delta: AggregateDelta): TransactItem {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const adds = [...delta.add].map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      return `#a${i} :a${i}`;
    });
    const sets = Object.entries(delta.set).map(([name, value], i) => {
      names[`#s${i}`] = name;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    return {
      Update: {
        TableName: this.tableName,
        Key: delta.key,
        UpdateExpression: `${sets.length ? `SET ${sets.join(', ')} ` : ''}ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }
}

const markerPart = (i: number) => `applied:${i}`;

function addCost(costs: AppliedCost[], cost: AppliedCost): void {
  const same = costs.find((c) => c.platform_id === cost.platform_id && c.currency === cost.currency);
  if (!same) costs.push({ ...cost });
  else {
    same.micros += cost.micros;
    same.avoided_micros += cost.avoided_micros;
  }
}

/** Parents of the children whose live image in these records was first counted or changed status. */
function familiesOf(records: ChangeRecord[]): Set<string> {
  const parents = new Set<string>();
  for (const { newImage: now, oldImage: old, eventName } of records) {
    if (eventName === 'REMOVE' || now?.type !== 'live' || typeof now.parent_id !== 'string') continue;
    if (now.project_id === undefined || (old?.project_id !== undefined && old.status === now.status))
      continue;
    parents.add(now.parent_id);
  }
  return parents;
}

/** Records in groups whose markers and distinct aggregate items fit one transaction. */
function groups(all: Counts[]): Counts[][] {
  const out: Counts[][] = [];
  let current: Counts[] = [];
  let keys = new Set<string>();
  for (const c of all) {
    const mine = c.deltas.map((d) => `${d.key.pk}|${d.key.sk}`);
    const union = new Set([...keys, ...mine]);
    if (current.length > 0 && current.length + 1 + union.size > MAX_TRANSACTION_ITEMS) {
      out.push(current);
      current = [];
      keys = new Set();
    }
    current.push(c);
    for (const k of mine) keys.add(k);
  }
  if (current.length) out.push(current);
  return out;
}

/** The part of a stream record the aggregator reads (Lambda's DynamoDBRecord and the streams API's _Record). */
export interface RawStreamRecord {
  eventName?: string;
  dynamodb?: { SequenceNumber?: string; NewImage?: unknown; OldImage?: unknown };
}

/** A raw stream record with its images unmarshalled (`unmarshall` passed in: callers may need to repair images first). */
export function changeRecord(
  record: RawStreamRecord,
  unmarshallImage: (image: unknown) => Record<string, unknown>,
): ChangeRecord {
  const { NewImage, OldImage, SequenceNumber } = record.dynamodb ?? {};
  return {
    eventName: (record.eventName ?? 'MODIFY') as ChangeRecord['eventName'],
    sequence: SequenceNumber ?? '',
    ...(NewImage ? { newImage: unmarshallImage(NewImage) } : {}),
    ...(OldImage ? { oldImage: unmarshallImage(OldImage) } : {}),
  };
}

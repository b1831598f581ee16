/**
 * The local stand-in for the table stream's two Lambda consumers:
 *   - "stream → aggregator Lambda": each batch's counts go to the dashboard's aggregate items
 *     through the same Aggregator the Lambda uses (lib/dashboard/aggregator.ts), exactly once
 *     per record however often it is read;
 *   - "stream → publisher Lambda → EventBridge": each inserted item is mapped with the same
 *     function the Lambda uses (lib/events/events.ts), the events appended to a JSON-lines file in
 *     the data folder and the latest kept in memory for the web dashboard (GET /local/events).
 *   - "stream → provenance signer Lambda": each build a batch completed gets its signed provenance
 *     (lib/provenance), through the same service the Lambda uses; a build whose signing failed is
 *     tried again on the next poll.
 *   - "stream → upload completion worker Lambda": each upload that entered `completing` under a
 *     new job is completed (lib/artifacts/upload.service.ts `finish`) through the same function
 *     the Lambda uses, started beside the reader (not awaited by it: a 6 GiB completion must not
 *     hold events back); a job lost to a restart is restarted by the next poll after its lease.
 * The position in each shard is checkpointed after these, so a restart neither loses nor (beyond
 * the last batch) repeats events, and repeats no count at all.
 */
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { completionJobs } from '../lib/artifacts/upload-jobs';
import { provenance } from '../lib/compose/provenance';
import { uploadCompletion } from '../lib/compose/upload-completion';
import { type AggregationResult, Aggregator, changeRecord } from '../lib/dashboard/aggregator';
import { createDocumentClient } from '../lib/db/client';
import { type BusEvent, eventsFromItem, PUBLISHED_ITEM_TYPES } from '../lib/events/events';
import { completedBuildIds } from '../lib/provenance/provenance.service';

const PUBLISHED_TYPES = new Set<string>(PUBLISHED_ITEM_TYPES);

/**
 * The streams client deserialises an empty map attribute (`{"M":{}}`) as `{}`, which unmarshall
 * rejects ("No value defined"); put the M back, at any depth. It walks the image by its structure
 * (a map of names to attribute values, each of which has one type key), so a name is never taken
 * for a type key: metadata `{"AMI":{}}` or `{"M":{}}` is repaired like any other.
 */
export function repairEmptyMaps(image: unknown): unknown {
  if (!image || typeof image !== 'object' || Array.isArray(image)) return image;
  return Object.fromEntries(
    Object.entries(image as Record<string, unknown>).map(([name, value]) => [name, repairValue(value)]),
  );
}

/** One attribute value: `{}` is an empty map; M and L hold more values; every other type is a leaf. */
function repairValue(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const typed = value as Record<string, unknown>;
  const keys = Object.keys(typed);
  if (keys.length === 0) return { M: {} };
  if (keys.length !== 1) return value;
  if (keys[0] === 'M') return { M: repairEmptyMaps(typed.M) };
  if (keys[0] === 'L' && Array.isArray(typed.L)) return { L: typed.L.map(repairValue) };
  return value;
}

/** A stream image as a plain item (undoing the streams client's empty-map quirk first). */
export const decodeImage = (image: unknown): Record<string, unknown> =>
  unmarshall(repairEmptyMaps(image) as Parameters<typeof unmarshall>[0]);

/**
 * Decodes each record, leaving out (and logging, with its sequence number) any that cannot be:
 * one undecodable record must never stop the reader, which would end events, counts and stuck
 * detection for every build after it.
 */
export function decodable<T>(records: _Record[], decode: (record: _Record) => T): T[] {
  const out: T[] = [];
  for (const record of records) {
    try {
      out.push(decode(record));
    } catch (error) {
      console.error(
        `event stream: skipped record ${record.dynamodb?.SequenceNumber ?? '?'} (${record.eventName ?? '?'} of ${JSON.stringify(record.dynamodb?.Keys ?? {})}): it cannot be decoded: ${(error as Error).message}`,
      );
    }
  }
  return out;
}

export interface FeedEntry extends BusEvent {
  seq: number;
}

/** The latest events, numbered in arrival order, for the web dashboard. */
export class EventFeed {
  private readonly entries: FeedEntry[] = [];
  private seq = 0;

  constructor(private readonly capacity = 500) {}

  push(event: BusEvent) {
    this.entries.push({ seq: ++this.seq, ...event });
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  after(seq: number, limit = 200): { items: FeedEntry[]; last_seq: number } {
    return { items: this.entries.filter((e) => e.seq > seq).slice(0, limit), last_seq: this.seq };
  }
}

export interface EventStreamOptions {
  endpoint: string;
  tableName: string;
  region: string;
  /** Append each event as one JSON line here (the data folder's events.jsonl). */
  logFile?: string;
  /** Where shard positions are kept between runs; without it a start reads from the stream's start. */
  checkpointFile?: string;
  retryLoopAfter: number;
  pollMs?: number;
  /** Publish events (default true). */
  publish?: boolean;
  /** Keep the dashboard's aggregate items (default true). */
  aggregate?: boolean;
  /** Sign the provenance of completed builds (default true). */
  sign?: boolean;
  /** Run multipart upload completion jobs (default true). */
  completeUploads?: boolean;
  /** Without a checkpoint, start at the stream's end rather than its start. */
  fromLatest?: boolean;
}

export interface EventStream {
  feed: EventFeed;
  /** What the aggregator did so far (summed over batches). */
  aggregation: Omit<AggregationResult, 'costs'>;
  /** Upload completion jobs started and finished so far (by outcome). */
  completions: { started: number; verified: number; failed: number; skipped: number; errors: number };
  /** Resolves once every record in the stream when it was called has been published. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

type Checkpoints = Record<string, string>;

/**
 * The shard positions to continue from. A missing file means "from the stream's start". An
 * unreadable one (truncated by a crash, edited by hand) is reported by name and replaced by the
 * stream's start too, which loses nothing; the events already in the log are then skipped by
 * their dedup key, so none is appended twice.
 */
async function readCheckpoints(
  file: string | undefined,
  logFile: string | undefined,
): Promise<{ checkpoints: Checkpoints; written?: Set<string> }> {
  if (!file) return { checkpoints: {} };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: {} };
    throw error;
  }
  let problem: string | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((v) => typeof v === 'string' && /^\d+$/.test(v))
    )
      return { checkpoints: parsed as Checkpoints };
    problem = 'it is not a map of shard ids to sequence numbers';
  } catch (error) {
    problem = (error as Error).message;
  }
  const written = new Set<string>();
  if (logFile) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    for (const line of log.split('\n')) {
      try {
        const key = (JSON.parse(line) as { detail?: { dedup_key?: unknown } }).detail?.dedup_key;
        if (typeof key === 'string') written.add(key);
      } catch {
        // a torn last line: its event is published again
      }
    }
  }
  console.error(
    `event stream: checkpoint ${file} is unreadable (${problem}); reading the stream from its start` +
      (logFile ? ` and skipping the ${written.size} events already in ${logFile}` : ''),
  );
  return { checkpoints: {}, written };
}

/** Written whole or not at all (a temporary file renamed over the old one), so a crash cannot truncate it. */
async function writeCheckpoints(file: string, checkpoints: Checkpoints): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify(checkpoints));
  await rename(temporary, file);
}

export async function startEventStream(options: EventStreamOptions): Promise<EventStream> {
  const credentials = { accessKeyId: 'buildstate', secretAccessKey: 'local' };
  const db = new DynamoDBClient({ endpoint: options.endpoint, region: options.region, credentials });
  const streams = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials,
  });
  const table = await db.send(new DescribeTableCommand({ TableName: options.tableName }));
  const aggregator =
    options.aggregate === false
      ? null
      : new Aggregator(
          createDocumentClient({ region: options.region, dynamodbEndpoint: options.endpoint }),
          options.tableName,
        );
  /** Counts only: costs go to CloudWatch from the Lambda (functions/events/aggregate.ts), not here. */
  const aggregation: Omit<AggregationResult, 'costs'> = {
    applied: 0,
    duplicates: 0,
    ignored: 0,
    transactions: 0,
    fanned_out: 0,
    families: 0,
  };
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${options.tableName} has no stream`);

  const feed = new EventFeed();
  const start = await readCheckpoints(options.checkpointFile, options.logFile);
  const checkpoints = start.checkpoints;
  /** After an unreadable checkpoint: events already in the log (by dedup key), not to be appended again. */
  const written = start.written;
  const iterators = new Map<string, string | null>();
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const aggregate = async (records: _Record[]) => {
    if (!aggregator) return;
    const result = await aggregator.apply(decodable(records, (r) => changeRecord(r, decodeImage)));
    for (const k of Object.keys(aggregation) as (keyof typeof aggregation)[]) aggregation[k] += result[k];
  };

  const publish = async (records: _Record[]) => {
    if (options.publish === false) return;
    const events: BusEvent[] = [];
    // The same filter as the Lambda's event source mapping: inserts of history and outbox items.
    const inserted = records.filter((record) => {
      const image = record.dynamodb?.NewImage;
      return record.eventName === 'INSERT' && image && PUBLISHED_TYPES.has(image.type?.S ?? '');
    });
    const mapped = decodable(inserted, (record) =>
      eventsFromItem(decodeImage(record.dynamodb!.NewImage), { retryLoopAfter: options.retryLoopAfter }),
    );
    for (const event of mapped.flat()) if (!written?.has(event.detail.dedup_key)) events.push(event);
    if (events.length === 0) return;
    if (options.logFile) {
      const lines = events.map((e) =>
        JSON.stringify({ source: e.source, 'detail-type': e.detailType, time: e.time, detail: e.detail }),
      );
      await appendFile(options.logFile, `${lines.join('\n')}\n`);
    }
    for (const e of events) feed.push(e);
  };

  /** Completed builds whose provenance is not signed yet (kept across polls until it is). */
  const unsigned = new Set<string>();
  const sign = async (records: _Record[]) => {
    if (options.sign === false) return;
    const inserted = records.filter((r) => r.eventName === 'INSERT' && r.dynamodb?.NewImage);
    for (const id of completedBuildIds(decodable(inserted, (r) => decodeImage(r.dynamodb!.NewImage))))
      unsigned.add(id);
    for (const id of [...unsigned]) {
      try {
        await provenance().signCompleted(id);
        unsigned.delete(id);
      } catch (error) {
        console.error(`provenance: build ${id} not signed yet: ${(error as Error).message}`);
      }
    }
  };

  const completions = { started: 0, verified: 0, failed: 0, skipped: 0, errors: 0 };
  const running = new Set<Promise<void>>();
  const complete = (records: _Record[]) => {
    if (options.completeUploads === false) return;
    const jobs = completionJobs(
      decodable(records, (r) => ({
        eventName: r.eventName,
        newImage: r.dynamodb?.NewImage ? decodeImage(r.dynamodb.NewImage) : undefined,
        oldImage: r.dynamodb?.OldImage ? decodeImage(r.dynamodb.OldImage) : undefined,
      })),
    );
    for (const j of jobs) {
      completions.started++;
      const timings: { assemble_ms?: number; verify_ms?: number } = {};
      const run: Promise<void> = uploadCompletion()
        .finish(j.build_id, j.state_code, j.name, j.upload_id, j.job, timings)
        .then(
          (outcome) => {
            completions[outcome]++;
            if (outcome !== 'skipped')
              console.log(
                `upload completion: ${j.name} (upload ${j.upload_id}) ${outcome}: assembled in ${((timings.assemble_ms ?? 0) / 1000).toFixed(1)} s, verified in ${((timings.verify_ms ?? 0) / 1000).toFixed(1)} s`,
              );
          },
          (error: Error) => {
            completions.errors++;
            console.error(
              `upload completion: ${j.name} (upload ${j.upload_id}) stays completing until its lease ends: ${error.message}`,
            );
          },
        )
        .finally(() => running.delete(run));
      running.add(run);
    }
  };

  let opened = false;
  const openShards = async () => {
    const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of description.StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      if (iterators.has(id)) continue;
      const after = checkpoints[id];
      const res = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: id,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : // A shard that appears later is read whole: its records are all new.
              { ShardIteratorType: options.fromLatest && !opened ? 'LATEST' : 'TRIM_HORIZON' }),
        }),
      );
      iterators.set(id, res.ShardIterator ?? null);
    }
    opened = true;
  };

  /** One pass over every open shard; true if any records were read. */
  const pollOnce = async (): Promise<boolean> => {
    await openShards();
    let read = false;
    for (const [id, iterator] of iterators) {
      if (!iterator) continue;
      let res: GetRecordsCommandOutput;
      try {
        res = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (error) {
        if (error instanceof ExpiredIteratorException) {
          iterators.delete(id);
          continue;
        }
        throw error;
      }
      const records = res.Records ?? [];
      if (records.length > 0) {
        read = true;
        await aggregate(records);
        await publish(records);
        await sign(records);
        complete(records);
        checkpoints[id] = records.at(-1)!.dynamodb!.SequenceNumber!;
        if (options.checkpointFile) await writeCheckpoints(options.checkpointFile, checkpoints);
      }
      iterators.set(id, res.NextShardIterator ?? null);
    }
    return read;
  };

  const loop = (async () => {
    while (!stopped) {
      let read = false;
      try {
        read = await pollOnce();
      } catch (error) {
        if (!stopped) console.error('event stream:', (error as Error).message);
      }
      if (!read) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
        await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
      }
    }
  })();

  return {
    feed,
    aggregation,
    completions,
    // Two idle passes: the first may have started before the caller's last write committed.
    drain: async () => {
      for (let i = 0; i < 2; i++) await new Promise<void>((r) => idleWaiters.push(r));
    },
    stop: async () => {
      stopped = true;
      for (const w of idleWaiters) w();
      await loop;
      // Jobs under way finish (their store calls would fail once the engines stop).
      await Promise.all([...running]);
      streams.destroy();
      db.destroy();
    },
  };
}

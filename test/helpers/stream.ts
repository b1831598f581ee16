/** Every record of a table's DynamoDB Local stream so far, for tests that deliver records again by hand. */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { type ChangeRecord, summaryKey } from '../../lib/dashboard/aggregates';
import { changeRecord } from '../../lib/dashboard/aggregator';
import { batchGetAll } from '../../lib/db/items';
import { services } from '../../lib/runtime';
import { decodeImage } from '../../local/event-stream';

const credentials = { accessKeyId: 'buildstate', secretAccessKey: 'local' };

/** The raw records, in order per shard, from each shard's start. */
export async function rawStreamRecords(tableName: string): Promise<_Record[]> {
  const endpoint = process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT!;
  const db = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const streams = new DynamoDBStreamsClient({ endpoint, region: 'us-east-1', credentials });
  try {
    const arn = (await db.send(new DescribeTableCommand({ TableName: tableName }))).Table!.LatestStreamArn!;
    const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription!
      .Shards!;
    const out: _Record[] = [];
    for (const shard of shards) {
      let iterator = (
        await streams.send(
          new GetShardIteratorCommand({
            StreamArn: arn,
            ShardId: shard.ShardId!,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (iterator) {
        const res = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        out.push(...(res.Records ?? []));
        if (!res.Records?.length) break;
        iterator = res.NextShardIterator;
      }
    }
    return out;
  } finally {
    db.destroy();
    streams.destroy();
  }
}

/** The same, as the aggregator takes them. */
export async function streamRecords(tableName: string): Promise<ChangeRecord[]> {
  return (await rawStreamRecords(tableName)).map((r) => changeRecord(r, decodeImage));
}

/** The dashboard's summary counters (what the aggregator made of the stream), summed over shards. */
export async function summaryCounters(tableName: string): Promise<Record<string, number>> {
  const items = await batchGetAll(services().db, tableName, [0, 1, 2, 3].map(summaryKey), {
    consistent: true,
  });
  const sum: Record<string, number> = {};
  for (const item of items)
    for (const [k, v] of Object.entries(item)) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

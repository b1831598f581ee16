/**
 * The table stream's second consumer: keeps the dashboard's aggregate items from committed
 * changes (inserts of history items, writes of live items), exactly once per record
 * (lib/dashboard/aggregator.ts). A failed batch is thrown, so Lambda retries it (bisecting);
 * records applied before are recognised by their markers and not counted again.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { config } from '../../lib/config/env';
import { Aggregator, changeRecord } from '../../lib/dashboard/aggregator';
import { createDocumentClient } from '../../lib/db/client';
import { lambdaHandler } from '../../lib/observability/lambda';
import { logger } from '../../lib/observability/logger';
import { recordCosts } from '../../lib/observability/metrics';

let aggregator: Aggregator | undefined;

export const handler = lambdaHandler(async (event: DynamoDBStreamEvent) => {
  if (!aggregator) {
    const cfg = config();
    aggregator = new Aggregator(createDocumentClient(cfg), cfg.tableName);
  }
  const result = await aggregator.apply(
    event.Records.map((r) => changeRecord(r, (image) => unmarshall(image as never))),
  );
  logger.info('aggregated', { records: event.Records.length, ...result });
  recordCosts(result.costs);
  return result;
});

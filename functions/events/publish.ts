/**
 * The table stream's consumer: every inserted history or outbox item becomes EventBridge events.
 * A record whose events were not all accepted is reported as a batch item failure, so Lambda
 * retries from it (at least once; detail.dedup_key lets consumers drop repeats).
 */

import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { config } from '../../lib/config/env';
import { createEventBridgeClient, putEvents } from '../../lib/events/eventbridge';
import { type EventOptions, eventsFromItem } from '../../lib/events/events';
import { lambdaHandler } from '../../lib/observability/lambda';
import { logger } from '../../lib/observability/logger';

export function publisher(client: Pick<EventBridgeClient, 'send'>, busName: string, options: EventOptions) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) continue;
      const item = unmarshall(record.dynamodb.NewImage as Parameters<typeof unmarshall>[0]);
      const events = eventsFromItem(item, options);
      if (events.length === 0) continue;
      const failed = await putEvents(client, busName, events);
      if (failed.length > 0) {
        logger.warn('events not accepted; retrying from this record', { failed: failed.length });
        // Records are in order: everything from this one on is retried.
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb.SequenceNumber! }] };
      }
    }
    return { batchItemFailures: [] };
  };
}

let publish: ReturnType<typeof publisher> | undefined;

export const handler = lambdaHandler((event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  if (!publish) {
    const cfg = config();
    if (!cfg.eventBusName) throw new Error('BUILDSTATE_EVENT_BUS_NAME is not set');
    publish = publisher(createEventBridgeClient(cfg.region), cfg.eventBusName, {
      retryLoopAfter: cfg.retryLoopAfter,
    });
  }
  return publish(event);
});

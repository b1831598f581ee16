/**
 * Publishing to an EventBridge bus: PutEvents in batches of 10, reporting which events failed.
 * PutEvents is a signed request (lib/aws/json-rpc.ts), not the EventBridge client.
 */
import type { PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import type { JsonRpcClient } from '../aws/json-rpc';
import type { BusEvent } from './events';

/** One PutEvents entry as the protocol carries it: the time in epoch seconds. */
type WireEntry = Omit<PutEventsRequestEntry, 'Time'> & { Time: number };

const BATCH = 10;

/** Publishes `events`; returns the positions of those EventBridge did not accept. */
export async function putEvents(
  client: Pick<JsonRpcClient, 'call'>,
  busName: string,
  events: BusEvent[],
): Promise<number[]> {
  const failed: number[] = [];
  for (let start = 0; start < events.length; start += BATCH) {
    const batch = events.slice(start, start + BATCH);
    try {
      // In the members' order of the service model, as the SDK sends them.
      const entries = batch.map(
        (e): WireEntry => ({
          Time: new Date(e.time).getTime() / 1000,
          Source: e.source,
          DetailType: e.detailType,
          Detail: JSON.stringify(e.detail),
          EventBusName: busName,
        }),
      );
      const res = await client.call<PutEventsResponse>('PutEvents', { Entries: entries });
      (res.Entries ?? []).forEach((entry, i) => {
        if (entry.ErrorCode) failed.push(start + i);
      });
    } catch {
      for (let i = 0; i < batch.length; i++) failed.push(start + i);
    }
  }
  return failed;
}

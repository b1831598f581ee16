/** Publishing to an EventBridge bus: PutEvents in batches of 10, reporting which events failed. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { clientConfig, serviceClient } from '../aws/clients';
import type { BusEvent } from './events';

const BATCH = 10;

/** The EventBridge client with the service's timeouts, attempts, user agent and tracing (lib/aws/clients.ts). */
export const createEventBridgeClient = (region: string) =>
  serviceClient(new EventBridgeClient(clientConfig(region)));

/** Publishes `events`; returns the positions of those EventBridge did not accept. */
export async function putEvents(
  client: Pick<EventBridgeClient, 'send'>,
  busName: string,
  events: BusEvent[],
): Promise<number[]> {
  const failed: number[] = [];
  for (let start = 0; start < events.length; start += BATCH) {
    const batch = events.slice(start, start + BATCH);
    try {
      const res = await client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({
            EventBusName: busName,
            Source: e.source,
            DetailType: e.detailType,
            Detail: JSON.stringify(e.detail),
            Time: new Date(e.time),
          })),
        }),
      );
      (res.Entries ?? []).forEach((entry, i) => {
        if (entry.ErrorCode) failed.push(start + i);
      });
    } catch {
      for (let i = 0; i < batch.length; i++) failed.push(start + i);
    }
  }
  return failed;
}

import type { Tracer } from '@aws-lambda-powertools/tracer';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

export const make = (tracer: Tracer) => [
  tracer.captureAWSv3Client(new EventBridgeClient({})),
  PutEventsCommand,
];

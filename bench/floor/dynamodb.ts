import type { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

export const make = (tracer: Tracer) => [
  DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))),
  GetCommand,
];

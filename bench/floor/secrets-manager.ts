import type { Tracer } from '@aws-lambda-powertools/tracer';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const make = (tracer: Tracer) => [
  tracer.captureAWSv3Client(new SecretsManagerClient({})),
  GetSecretValueCommand,
];

import type { Tracer } from '@aws-lambda-powertools/tracer';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';

export const make = (tracer: Tracer) => [tracer.captureAWSv3Client(new KMSClient({})), GetPublicKeyCommand];

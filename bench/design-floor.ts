/**
 * The floor of the fixed design, for bench:bundles: what any BuildState function loads before a line
 * of BuildState runs. A middy handler, a Powertools logger, one zod/mini schema with the English
 * messages (lib/zod.ts), the SDK's SigV4 signer over node:crypto (lib/auth/sha256.ts) and node:https
 * for the call it would sign. Bundled with the functions' own esbuild options and imported as they are.
 */
import { request } from 'node:https';
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../lib/auth/sha256';
import * as z from '../lib/zod';

const logger = new Logger({ serviceName: 'design-floor' });
const body = z.strictObject({ state_code: z.int() });
const signer = new SignatureV4({
  service: 'dynamodb',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  sha256: Sha256,
});

export const handler = middy(async (event: { body?: string }) => {
  logger.info('event');
  return { ok: body.safeParse(JSON.parse(event.body ?? '{}')).success, signer, request };
});

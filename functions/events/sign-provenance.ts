/**
 * A table stream consumer: signs the provenance of each build a batch completed and stores it
 * beside the build's artifacts, with a `Provenance Signed` event (lib/provenance). The only
 * function allowed kms:Sign. A replayed record finds the envelope stored and signs nothing; a
 * failure is thrown, so Lambda retries the batch (bisecting).
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { provenance } from '../../lib/compose/provenance';
import { lambdaHandler } from '../../lib/observability/lambda';
import { logger } from '../../lib/observability/logger';
import { completedBuildIds } from '../../lib/provenance/provenance.service';

export const handler = lambdaHandler(async (event: DynamoDBStreamEvent) => {
  const items = event.Records.flatMap((r) =>
    r.eventName === 'INSERT' && r.dynamodb?.NewImage ? [unmarshall(r.dynamodb.NewImage as never)] : [],
  );
  const results: Record<string, string> = {};
  for (const buildId of completedBuildIds(items))
    results[buildId] = await provenance().signCompleted(buildId);
  logger.info('provenance', { records: event.Records.length, results });
  return results;
});

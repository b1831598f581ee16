/**
 * A table stream consumer: the multipart completion worker (docs/ARTIFACTS.md "Completion"). Each
 * upload record that entered `completing` under a new job is completed in S3 (the whole file's
 * CRC32 checked by S3), its artifact verified and the record moved to `verified` or `failed`
 * (lib/artifacts/upload.service.ts `finish`). It runs with a long timeout, outside the API's 29 s.
 * A stale or repeated record finds another job (or none) holding the upload and does nothing; an
 * outage is thrown, so Lambda retries the record, and a worker lost for good is restarted by a
 * completion asked again once its lease ends.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { completionJobs } from '../../lib/artifacts/upload-jobs';
import { uploadCompletion } from '../../lib/compose/upload-completion';
import { lambdaHandler } from '../../lib/observability/lambda';
import { logger } from '../../lib/observability/logger';

export const handler = lambdaHandler(async (event: DynamoDBStreamEvent) => {
  const jobs = completionJobs(
    event.Records.map((r) => ({
      eventName: r.eventName,
      newImage: r.dynamodb?.NewImage ? unmarshall(r.dynamodb.NewImage as never) : undefined,
      oldImage: r.dynamodb?.OldImage ? unmarshall(r.dynamodb.OldImage as never) : undefined,
    })),
  );
  const results: Record<string, { outcome: string; assemble_ms?: number; verify_ms?: number }> = {};
  for (const j of jobs) {
    const timings: { assemble_ms?: number; verify_ms?: number } = {};
    const outcome = await uploadCompletion().finish(
      j.build_id,
      j.state_code,
      j.name,
      j.upload_id,
      j.job,
      timings,
    );
    results[`${j.upload_id}#${j.job}`] = { outcome, ...timings };
  }
  logger.info('upload completions', { records: event.Records.length, results });
  return results;
});

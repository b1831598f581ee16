/** Scheduled (EventBridge Scheduler rule): one pass of the stuck detector. */
import { dashboard, outbox } from '../../lib/compose/dashboard';
import { detectStuck } from '../../lib/events/stuck-detector';
import { lambdaHandler } from '../../lib/observability/lambda';
import { logger } from '../../lib/observability/logger';

export const handler = lambdaHandler(async () => {
  const result = await detectStuck(dashboard(), outbox());
  logger.info('stuck detection', { ...result });
  return result;
});

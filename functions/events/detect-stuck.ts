/** Scheduled (EventBridge Scheduler rule): one pass of the stuck detector. */
import { detectStuck } from '../../lib/events/stuck-detector';
import { logger } from '../../lib/observability/logger';
import { services } from '../../lib/runtime';

export const handler = async () => {
  const { dashboard, outbox } = services();
  const result = await detectStuck(dashboard, outbox);
  logger.info('stuck detection', { ...result });
  return result;
};

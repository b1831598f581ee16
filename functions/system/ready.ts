import { httpHandler } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

/** Readiness: 200 only when the table answers; 503 `unavailable` otherwise. */
export const handler = httpHandler(async () => {
  await services().ready();
  return { status: 200, body: { status: 'ready', checks: { table: 'ok' } } };
});

import { ready } from '../../lib/compose/store';
import { httpHandler } from '../../lib/http/handler';

/** Readiness: 200 only when the table answers; 503 `unavailable` otherwise. */
export const handler = httpHandler(async () => {
  await ready();
  return { status: 200, body: { status: 'ready', checks: { table: 'ok' } } };
});

import { httpHandler } from '../../lib/http/handler';

/** Liveness: answers without touching the table or requiring credentials. */
export const handler = httpHandler(async () => ({
  status: 200,
  body: { status: 'ok', service: 'buildstate', time: new Date().toISOString() },
}));

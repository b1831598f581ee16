import { historyQuerySchema } from '../../lib/builds/build.schema';
import { buildIdParam, fromOutcome, httpHandler, parseQuery } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  return fromOutcome(await services().builds.history(id, parseQuery(req, historyQuerySchema)));
});

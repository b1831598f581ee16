import { historyQuerySchema } from '../../lib/builds/build.schema';
import { buildIdParam, fromOutcome, httpHandler } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  return fromOutcome(await services().builds.history(id, parse(historyQuerySchema, req.query, 'query')));
});

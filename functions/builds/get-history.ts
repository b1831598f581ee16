import { historyQuerySchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, parseQuery } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  return fromOutcome(req, await builds().history(id, parseQuery(req, historyQuerySchema)));
});

import { historyQuerySchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  return fromOutcome(await builds().history(id, parse(historyQuerySchema, req.query, 'query')));
});

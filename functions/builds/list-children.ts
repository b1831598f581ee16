import { childrenQuerySchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, parseQuery } from '../../lib/http/handler';

export const handler = httpHandler(async (req) =>
  fromOutcome(req, await builds().children(buildIdParam(req), parseQuery(req, childrenQuerySchema))),
);

import { lineage } from '../../lib/compose/lineage';
import { buildIdParam, fromOutcome, httpHandler, parseQuery } from '../../lib/http/handler';
import { lineageQuerySchema } from '../../lib/lineage/lineage.schema';

export const handler = httpHandler(async (req) =>
  fromOutcome(req, await lineage().lineageOf(buildIdParam(req), parseQuery(req, lineageQuerySchema))),
);

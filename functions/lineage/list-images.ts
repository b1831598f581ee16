import { lineage } from '../../lib/compose/lineage';
import { buildIdParam, fromOutcome, httpHandler } from '../../lib/http/handler';

export const handler = httpHandler(async (req) =>
  fromOutcome(req, await lineage().images(buildIdParam(req))),
);

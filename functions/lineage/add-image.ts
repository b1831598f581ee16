import { lineage } from '../../lib/compose/lineage';
import { buildIdParam, fromOutcome, httpHandler, parseBody } from '../../lib/http/handler';
import { imageInputSchema } from '../../lib/lineage/lineage.schema';

export const handler = httpHandler(async (req) =>
  fromOutcome(
    req,
    await lineage().addImage(buildIdParam(req), parseBody(req, imageInputSchema), req.principal),
  ),
);

import { revocations } from '../../lib/compose/lineage';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';
import { restoreSchema } from '../../lib/lineage/lineage.schema';

export const handler = httpHandler(async (req) =>
  fromOutcome(
    req,
    await revocations().restore(
      buildIdParam(req),
      req.body === undefined ? {} : parseBody(req, restoreSchema),
      req.principal,
      mutationOptions(req),
    ),
  ),
);

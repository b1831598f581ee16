import { revocations } from '../../lib/compose/lineage';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';
import { revokeSchema } from '../../lib/lineage/lineage.schema';

export const handler = httpHandler(async (req) =>
  fromOutcome(
    req,
    await revocations().revoke(
      buildIdParam(req),
      parseBody(req, revokeSchema),
      req.principal,
      mutationOptions(req),
    ),
  ),
);

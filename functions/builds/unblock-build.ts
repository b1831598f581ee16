import { unblockSchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, unblockSchema);
  return fromOutcome(req, await builds().unblock(id, input, req.principal, mutationOptions(req)));
});

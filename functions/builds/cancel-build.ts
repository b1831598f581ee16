import { cancelSchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, cancelSchema);
  return fromOutcome(req, await builds().cancel(id, input, req.principal, mutationOptions(req)));
});

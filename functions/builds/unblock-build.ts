import { unblockSchema } from '../../lib/builds/build.schema';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, unblockSchema);
  return fromOutcome(await services().builds.unblock(id, input, req.principal, mutationOptions(req)));
});

import { cancelSchema } from '../../lib/builds/build.schema';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, cancelSchema);
  return fromOutcome(await services().builds.cancel(id, input, req.principal, mutationOptions(req)));
});

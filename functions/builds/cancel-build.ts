import { cancelSchema } from '../../lib/builds/build.schema';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parse(cancelSchema, req.body, 'body');
  return fromOutcome(await services().builds.cancel(id, input, req.principal, mutationOptions(req)));
});

import { unblockSchema } from '../../lib/builds/build.schema';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parse(unblockSchema, req.body, 'body');
  return fromOutcome(await services().builds.unblock(id, input, req.principal, mutationOptions(req)));
});

import { cancelSchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parse(cancelSchema, req.body, 'body');
  return fromOutcome(await builds().cancel(id, input, req.principal, mutationOptions(req)));
});

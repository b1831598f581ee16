import { stateReportSchema } from '../../lib/builds/build.schema';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parse(stateReportSchema, req.body, 'body');
  return fromOutcome(await services().builds.report(id, input, req.principal, mutationOptions(req)));
});

import { createBuildSchema } from '../../lib/builds/build.schema';
import { fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const input = parse(createBuildSchema, req.body, 'body');
  return fromOutcome(await services().builds.create(input, req.principal, mutationOptions(req)));
});

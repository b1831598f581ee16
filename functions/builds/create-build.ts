import { createBuildSchema } from '../../lib/builds/build.schema';
import { fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const input = parse(createBuildSchema, req.body, 'body');
  const response = fromOutcome(await services().builds.create(input, req.principal, mutationOptions(req)));
  const id = (response.body as { id: string }).id;
  return { ...response, headers: { ...response.headers, location: `/builds/${encodeURIComponent(id)}` } };
});

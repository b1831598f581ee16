import { createBuildSchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';

export const handler = httpHandler(async (req) => {
  const input = parse(createBuildSchema, req.body, 'body');
  const response = fromOutcome(await builds().create(input, req.principal, mutationOptions(req)));
  const id = (response.body as { id: string }).id;
  return { ...response, headers: { ...response.headers, location: `/builds/${encodeURIComponent(id)}` } };
});

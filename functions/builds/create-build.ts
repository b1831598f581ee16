import { createBuildSchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => {
  const input = parseBody(req, createBuildSchema);
  const response = fromOutcome(req, await builds().create(input, req.principal, mutationOptions(req)));
  const id = (response.body as { id: string }).id;
  return { ...response, headers: { ...response.headers, location: `/builds/${encodeURIComponent(id)}` } };
});

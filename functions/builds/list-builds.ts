import { listBuildsQuerySchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { fromOutcome, httpHandler, parseQuery } from '../../lib/http/handler';

export const handler = httpHandler(async (req) =>
  fromOutcome(req, await builds().list(parseQuery(req, listBuildsQuerySchema))),
);

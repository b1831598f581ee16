import { listBuildsQuerySchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { fromOutcome, httpHandler } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';

export const handler = httpHandler(async (req) =>
  fromOutcome(await builds().list(parse(listBuildsQuerySchema, req.query, 'query'))),
);

import { listBuildsQuerySchema } from '../../lib/builds/build.schema';
import { fromOutcome, httpHandler, parseQuery } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) =>
  fromOutcome(await services().builds.list(parseQuery(req, listBuildsQuerySchema))),
);

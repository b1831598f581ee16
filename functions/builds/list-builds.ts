import { listBuildsQuerySchema } from '../../lib/builds/build.schema';
import { fromOutcome, httpHandler } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) =>
  fromOutcome(await services().builds.list(parse(listBuildsQuerySchema, req.query, 'query'))),
);

import { buildIdParam, fromOutcome, httpHandler } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) =>
  fromOutcome(await services().builds.get(buildIdParam(req))),
);

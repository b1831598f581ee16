import { forkSchema } from '../../lib/builds/build.schema';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';

export const handler = httpHandler(async (req) =>
  fromOutcome(
    req,
    await builds().fork(buildIdParam(req), parseBody(req, forkSchema), req.principal, mutationOptions(req)),
  ),
);

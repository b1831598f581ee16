import { artifactService } from '../../lib/compose/artifacts';
import { buildIdParam, fromOutcome, httpHandler } from '../../lib/http/handler';

export const handler = httpHandler(async (req) =>
  fromOutcome(req, await artifactService().list(buildIdParam(req))),
);

import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => fromOutcome(req, await builds().get(buildIdParam(req))));

import { stateReportSchema } from '../../lib/builds/build.schema';
import type { BuildView } from '../../lib/builds/build.view';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { recordStateReport } from '../../lib/observability/metrics';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parse(stateReportSchema, req.body, 'body');
  const outcome = await builds().report(id, input, req.principal, mutationOptions(req));
  if (!outcome.replayed) recordStateReport((outcome.body as BuildView).platform_id, input.status);
  return fromOutcome(outcome);
});

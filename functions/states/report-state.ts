import { stateReportSchema } from '../../lib/builds/build.schema';
import type { BuildView } from '../../lib/builds/build.view';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';
import { recordStateReport } from '../../lib/observability/metrics';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, stateReportSchema);
  const outcome = await services().builds.report(id, input, req.principal, mutationOptions(req));
  if (!outcome.replayed) recordStateReport((outcome.body as BuildView).platform_id, input.status);
  return fromOutcome(outcome);
});

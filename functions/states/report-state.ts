import { stateReportWithArtifactsSchema } from '../../lib/artifacts/artifact.schema';
import type { BuildView } from '../../lib/builds/build.view';
import { artifactReports } from '../../lib/compose/artifact-reports';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, fromOutcome, httpHandler, mutationOptions, parseBody } from '../../lib/http/handler';
import { recordStateReport } from '../../lib/observability/metrics';

export const handler = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, stateReportWithArtifactsSchema);
  const options = mutationOptions(req);
  // With `artifacts`, the report and its artifact records commit together (lib/artifacts).
  const outcome =
    input.artifacts === undefined
      ? await builds().report(id, input, req.principal, options)
      : await artifactReports().report(id, input, req.principal, options);
  if (!outcome.replayed) recordStateReport((outcome.body as BuildView).platform_id, input.status);
  return fromOutcome(req, outcome);
});

import { artifactService } from '../../lib/compose/artifacts';
import { builds } from '../../lib/compose/builds';
import { buildIdParam, httpHandler } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => ({
  status: 200,
  body: await builds().resume(buildIdParam(req), (build) =>
    artifactService().inputArtifacts(build, req.principal),
  ),
}));

import { artifactService } from '../../lib/artifacts/runtime';
import { buildIdParam, httpHandler } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => ({
  status: 200,
  body: await services().builds.resume(buildIdParam(req), (build) =>
    artifactService().inputArtifacts(build, req.principal),
  ),
}));

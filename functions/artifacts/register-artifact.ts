import { registerArtifactSchema } from '../../lib/artifacts/artifact.schema';
import { artifactService } from '../../lib/compose/artifacts';
import { buildIdParam, httpHandler, parseBody, stateCodeParam } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => {
  const input = parseBody(req, registerArtifactSchema);
  return artifactService().register(buildIdParam(req), stateCodeParam(req), input, req.principal);
});

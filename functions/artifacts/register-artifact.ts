import { registerArtifactSchema } from '../../lib/artifacts/artifact.schema';
import { artifactService } from '../../lib/artifacts/runtime';
import { buildIdParam, httpHandler, stateCodeParam } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';

export const handler = httpHandler(async (req) => {
  const input = parse(registerArtifactSchema, req.body, 'body');
  return artifactService().register(buildIdParam(req), stateCodeParam(req), input, req.principal);
});

import { registerArtifactSchema } from '../../lib/artifacts/artifact.schema';
import { buildIdParam, httpHandler, stateCodeParam } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  const input = parse(registerArtifactSchema, req.body, 'body');
  return services().artifacts.register(buildIdParam(req), stateCodeParam(req), input, req.principal);
});

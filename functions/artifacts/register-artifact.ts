import { registerArtifactSchema } from '../../lib/artifacts/artifact.schema';
import { artifactService } from '../../lib/compose/artifacts';
import { buildIdParam, fromOutcome, httpHandler, parseBody, stateCodeParam } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => {
  const input = parseBody(req, registerArtifactSchema);
  return fromOutcome(
    req,
    await artifactService().register(buildIdParam(req), stateCodeParam(req), input, req.principal),
  );
});

import { verifyArtifactSchema } from '../../lib/artifacts/artifact.schema';
import { artifactService } from '../../lib/compose/artifacts';
import {
  artifactNameParam,
  buildIdParam,
  fromOutcome,
  httpHandler,
  parseBody,
  stateCodeParam,
} from '../../lib/http/handler';

export const handler = httpHandler(async (req) => {
  // The body is optional: what a worker observed when it fetched an externally stored artifact.
  const observed = req.body === undefined ? {} : parseBody(req, verifyArtifactSchema);
  return fromOutcome(
    req,
    await artifactService().verify(
      buildIdParam(req),
      stateCodeParam(req),
      artifactNameParam(req),
      observed,
      req.principal,
    ),
  );
});

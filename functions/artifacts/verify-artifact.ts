import { verifyArtifactSchema } from '../../lib/artifacts/artifact.schema';
import { artifactNameParam, buildIdParam, httpHandler, stateCodeParam } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => {
  // The body is optional: what a worker observed when it fetched an externally stored artifact.
  const observed = req.body === undefined ? {} : parse(verifyArtifactSchema, req.body, 'body');
  return services().artifacts.verify(
    buildIdParam(req),
    stateCodeParam(req),
    artifactNameParam(req),
    observed,
  );
});

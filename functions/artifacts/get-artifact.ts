import { artifactService } from '../../lib/compose/artifacts';
import { artifactNameParam, buildIdParam, httpHandler, stateCodeParam } from '../../lib/http/handler';

export const handler = httpHandler(async (req) =>
  artifactService().get(buildIdParam(req), stateCodeParam(req), artifactNameParam(req), req.principal),
);

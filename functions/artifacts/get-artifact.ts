import { artifactService } from '../../lib/compose/artifacts';
import {
  artifactNameParam,
  buildIdParam,
  fromOutcome,
  httpHandler,
  stateCodeParam,
} from '../../lib/http/handler';

export const handler = httpHandler(async (req) =>
  fromOutcome(
    req,
    await artifactService().get(
      buildIdParam(req),
      stateCodeParam(req),
      artifactNameParam(req),
      req.principal,
    ),
  ),
);

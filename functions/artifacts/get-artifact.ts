import { artifactNameParam, buildIdParam, httpHandler, stateCodeParam } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) =>
  services().artifacts.get(buildIdParam(req), stateCodeParam(req), artifactNameParam(req)),
);

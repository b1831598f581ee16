import { artifactService } from '../../lib/artifacts/runtime';
import { buildIdParam, httpHandler } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => artifactService().list(buildIdParam(req)));

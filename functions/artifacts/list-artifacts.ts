import { artifactService } from '../../lib/compose/artifacts';
import { buildIdParam, httpHandler } from '../../lib/http/handler';

export const handler = httpHandler(async (req) => artifactService().list(buildIdParam(req)));

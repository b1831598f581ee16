import { buildIdParam, httpHandler } from '../../lib/http/handler';
import { services } from '../../lib/runtime';

export const handler = httpHandler(async (req) => services().artifacts.list(buildIdParam(req)));

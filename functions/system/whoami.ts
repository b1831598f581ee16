import { httpHandler } from '../../lib/http/handler';

/** The principal the request authenticated as (what `bldst auth whoami` shows). */
export const handler = httpHandler(async (req) => ({
  status: 200,
  body: {
    id: req.principal.id,
    type: req.principal.type,
    name: req.principal.name,
    scopes: req.principal.scopes,
  },
}));

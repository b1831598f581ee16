import { putCatalogSchema } from '../../lib/catalog/catalog.schema';
import { references } from '../../lib/compose/references';
import { fromOutcome, httpHandler, parseBody } from '../../lib/http/handler';
import { parseIfMatch } from '../../lib/http/http';
import { referenceIdParam } from './params';

export const getStateCodes = httpHandler(async (req) =>
  fromOutcome(req, await references().getCatalog(referenceIdParam(req))),
);

export const putStateCodes = httpHandler(async (req) => {
  const id = referenceIdParam(req);
  const codes = parseBody(req, putCatalogSchema);
  return fromOutcome(
    req,
    await references().putCatalog(id, codes, req.principal, parseIfMatch(req.header('if-match'))),
  );
});

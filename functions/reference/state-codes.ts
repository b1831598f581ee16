import { putCatalogSchema } from '../../lib/catalog/catalog.schema';
import { fromOutcome, httpHandler, parseBody } from '../../lib/http/handler';
import { parseIfMatch } from '../../lib/http/http';
import { services } from '../../lib/runtime';
import { referenceIdParam } from './params';

export const getStateCodes = httpHandler(async (req) =>
  fromOutcome(await services().references.getCatalog(referenceIdParam(req))),
);

export const putStateCodes = httpHandler(async (req) => {
  const id = referenceIdParam(req);
  const codes = parseBody(req, putCatalogSchema);
  return fromOutcome(
    await services().references.putCatalog(id, codes, req.principal, parseIfMatch(req.header('if-match'))),
  );
});

/** The six handlers of one kind of reference data; index.ts names them as the route table does. */

import { references } from '../../lib/compose/references';
import { fromOutcome, httpHandler, mutationOptions, parseBody, parseQuery } from '../../lib/http/handler';
import type { ReferenceKind } from '../../lib/reference/reference.model';
import {
  createReferenceSchema,
  listReferenceQuerySchema,
  updateReferenceSchema,
} from '../../lib/reference/reference.schema';
import { referenceIdParam } from './params';

export function referenceHandlers({ type, handlerName: n }: ReferenceKind) {
  const createSchema = createReferenceSchema(type);
  const updateSchema = updateReferenceSchema(type);
  return {
    [`create${n}`]: httpHandler(async (req) => {
      const input = parseBody(req, createSchema);
      const response = fromOutcome(
        req,
        await references().create(type, input, req.principal, mutationOptions(req)),
      );
      const id = (response.body as { id: string }).id;
      return {
        ...response,
        headers: { ...response.headers, location: `${req.path}/${encodeURIComponent(id)}` },
      };
    }),
    [`list${n}s`]: httpHandler(async (req) =>
      fromOutcome(req, await references().list(type, parseQuery(req, listReferenceQuerySchema))),
    ),
    [`get${n}`]: httpHandler(async (req) =>
      fromOutcome(req, await references().get(type, referenceIdParam(req))),
    ),
    [`update${n}`]: httpHandler(async (req) => {
      const id = referenceIdParam(req);
      const fields = parseBody(req, updateSchema);
      return fromOutcome(
        req,
        await references().update(type, id, fields, req.principal, mutationOptions(req)),
      );
    }),
    [`deactivate${n}`]: httpHandler(async (req) =>
      fromOutcome(req, await references().deactivate(type, referenceIdParam(req), req.principal)),
    ),
    [`restore${n}`]: httpHandler(async (req) =>
      fromOutcome(req, await references().restore(type, referenceIdParam(req), req.principal)),
    ),
  };
}

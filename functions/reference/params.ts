import { referenceIdSchema } from '../../lib/builds/build.schema';
import { pathParam } from '../../lib/http/handler';
import type { HttpRequest } from '../../lib/http/http';

/** The `{id}` path parameter as a reference id (a slug). */
export const referenceIdParam = (req: HttpRequest): string => pathParam(req, 'id', referenceIdSchema);

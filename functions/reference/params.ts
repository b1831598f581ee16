import { referenceIdSchema } from '../../lib/builds/build.schema';
import { AppError } from '../../lib/errors';
import type { HttpRequest } from '../../lib/http/http';

/** The `{id}` path parameter as a reference id (a slug). */
export function referenceIdParam(req: HttpRequest): string {
  const id = req.params.id ?? '';
  if (!referenceIdSchema.safeParse(id).success) {
    throw new AppError('validation_error', `'${id}' is not a valid id`, { path_parameter: 'id' });
  }
  return id;
}

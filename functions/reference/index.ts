import { dispatch } from '../../lib/http/dispatch';
import { REFERENCE_ROUTES } from '../../lib/http/reference.routes';
import { REFERENCE_KINDS } from '../../lib/reference/reference.model';
import { referenceHandlers } from './reference-handlers';
import { getStateCodes, putStateCodes } from './state-codes';

export const handler = dispatch('reference', REFERENCE_ROUTES, {
  ...Object.assign({}, ...REFERENCE_KINDS.map(referenceHandlers)),
  getStateCodes,
  putStateCodes,
});

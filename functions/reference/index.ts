import { dispatch } from '../../lib/http/dispatch';
import { REFERENCE_KINDS } from '../../lib/reference/reference.model';
import { referenceHandlers } from './reference-handlers';
import { getStateCodes, putStateCodes } from './state-codes';

export const handler = dispatch('reference', {
  ...Object.assign({}, ...REFERENCE_KINDS.map(referenceHandlers)),
  getStateCodes,
  putStateCodes,
});

import { dispatch } from '../../lib/http/dispatch';
import { STATES_ROUTES } from '../../lib/http/states.routes';
import { acquireLease, getLease, heartbeat, releaseLease, renewLease } from './leases';
import { handler as reportState } from './report-state';

export const handler = dispatch('states', STATES_ROUTES, {
  reportState,
  acquireLease,
  getLease,
  renewLease,
  releaseLease,
  heartbeat,
});

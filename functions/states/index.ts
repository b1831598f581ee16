import { dispatch } from '../../lib/http/dispatch';
import { acquireLease, getLease, heartbeat, releaseLease, renewLease } from './leases';
import { handler as reportState } from './report-state';

export const handler = dispatch('states', {
  reportState,
  acquireLease,
  getLease,
  renewLease,
  releaseLease,
  heartbeat,
});

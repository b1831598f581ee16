import { dispatch } from '../../lib/http/dispatch';
import { handler as getResume } from './get-resume';
import { acquireLease, getLease, heartbeat, releaseLease, renewLease } from './leases';
import { handler as reportState } from './report-state';

export const handler = dispatch('states', {
  reportState,
  getResume,
  acquireLease,
  getLease,
  renewLease,
  releaseLease,
  heartbeat,
});

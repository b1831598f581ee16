/** The dashboard API and the web dashboard page: thin adapters over lib/dashboard. */

import { dashboard } from '../../lib/compose/dashboard';
import { durationsQuerySchema, summaryQuerySchema } from '../../lib/dashboard/dashboard.schema';
import { dispatch } from '../../lib/http/dispatch';
import { httpHandler } from '../../lib/http/handler';
import { parse } from '../../lib/http/http';
import { DASHBOARD_PAGE } from '../../web/dashboard-page';

const summary = httpHandler(async (req) => {
  const query = parse(summaryQuerySchema, req.query, 'query');
  return { status: 200, body: await dashboard().summary(query.active_limit) };
});

const durations = httpHandler(async (req) => {
  const query = parse(durationsQuerySchema, req.query, 'query');
  return { status: 200, body: await dashboard().durations(query.platform_id) };
});

const stuck = httpHandler(async () => ({ status: 200, body: await dashboard().stuck() }));

/** The page itself is public; everything it shows comes from the API with the user's key. */
const webDashboard = httpHandler(async () => ({
  status: 200,
  text: DASHBOARD_PAGE,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy':
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  },
}));

export const handler = dispatch('dashboard', { summary, durations, stuck, webDashboard });

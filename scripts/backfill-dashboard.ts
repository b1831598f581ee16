/**
 * npm run backfill:dashboard — after upgrading a deployed table from a version without leases and
 * dashboards: give every earlier build its live item and count it in the dashboard summary, once
 * (lib/dashboard/backfill.ts). Uses your AWS credentials and BUILDSTATE_TABLE_NAME. `npm start`
 * does the same for a local data folder by itself.
 */
import { backfillDashboard } from '../lib/dashboard/backfill';
import { services } from '../lib/runtime';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { db, config } = services();
const result = await backfillDashboard(db, config.tableName);
console.log(
  result.skipped
    ? `${config.tableName}: already done (nothing to do)`
    : `${config.tableName}: ${result.builds_seen} builds seen, ${result.backfilled} counted and given a live item`,
);

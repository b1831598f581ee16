/** The dashboard API and the web dashboard page: thin adapters over lib/dashboard. */
import { dashboard } from '../../lib/compose/dashboard';
import { objectStore } from '../../lib/compose/object-store';
import { once, ready, runtimeConfig } from '../../lib/compose/store';
import {
  costsQuerySchema,
  durationsQuerySchema,
  summaryQuerySchema,
} from '../../lib/dashboard/dashboard.schema';
import { AppError } from '../../lib/errors';
import { apiDocsAssetSchema, DASHBOARD_ROUTES, dashboardAssetSchema } from '../../lib/http/dashboard.routes';
import { dispatch } from '../../lib/http/dispatch';
import { httpHandler, parseQuery } from '../../lib/http/handler';
import { openApiText } from '../../lib/http/openapi-file';
import { serviceStatus } from '../../lib/status/status';
import { API_DOCS_CSP, API_DOCS_PAGE, apiDocsAsset } from '../../web/api-docs';
import { DASHBOARD_CSP, dashboardFile } from '../../web/dashboard-files';

const summary = httpHandler(async (req) => {
  const query = parseQuery(req, summaryQuerySchema);
  return { status: 200, body: await dashboard().summary(query.active_limit) };
});

const durations = httpHandler(async (req) => {
  const query = parseQuery(req, durationsQuerySchema);
  return { status: 200, body: await dashboard().durations(query.platform_id) };
});

const costs = httpHandler(async (req) => {
  const query = parseQuery(req, costsQuerySchema);
  return { status: 200, body: await dashboard().costs(query.group_by, query.since) };
});

/** HeadBucket (the object store's ping); null without a bucket. */
const checkBucket = once(() => {
  const cfg = runtimeConfig();
  if (!cfg.artifactsBucket) return null;
  const store = objectStore(cfg);
  return () => store.ping();
});

/** The seeds' status overview: version, uptime, store checks, builds by status (flat cost). */
const status = httpHandler(async () => {
  return {
    status: 200,
    body: await serviceStatus({
      checkTable: ready,
      checkArtifactStore: checkBucket(),
      buildCounts: () => dashboard().buildCounts(),
    }),
  };
});

const stuck = httpHandler(async () => ({ status: 200, body: await dashboard().stuck() }));

const pageHeaders = (contentType: string) => ({
  'content-type': contentType,
  'cache-control': 'no-cache',
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});

/** The page itself is public; everything it shows comes from the API with the user's key. */
const webDashboard = httpHandler(async () => {
  const page = dashboardFile('index.html');
  return { status: 200, text: page.text, headers: pageHeaders(page.contentType) };
});

const webDashboardAsset = httpHandler(async (req) => {
  const name = dashboardAssetSchema.safeParse(req.params.asset);
  if (!name.success) throw new AppError('not_found', `No file '${req.params.asset}' under /web`);
  const asset = dashboardFile(name.data);
  return { status: 200, text: asset.text, headers: pageHeaders(asset.contentType) };
});

/** Generated from the route table at build time (npm run openapi), shipped beside the bundle. */
const openApi = httpHandler(async () => {
  return {
    status: 200,
    text: openApiText(),
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    },
  };
});

const docsHeaders = (contentType: string) => ({
  'content-type': contentType,
  'cache-control': 'no-cache',
  'content-security-policy': API_DOCS_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});

const apiDocsPage = httpHandler(async () => ({
  status: 200,
  text: API_DOCS_PAGE,
  headers: docsHeaders('text/html; charset=utf-8'),
}));

const apiDocsAssetHandler = httpHandler(async (req) => {
  const name = apiDocsAssetSchema.safeParse(req.params.asset);
  if (!name.success) throw new AppError('not_found', `No file '${req.params.asset}' under /docs`);
  const asset = apiDocsAsset(name.data);
  return { status: 200, text: asset.text, headers: docsHeaders(asset.contentType) };
});

export const handler = dispatch('dashboard', DASHBOARD_ROUTES, {
  summary,
  durations,
  costs,
  stuck,
  status,
  webDashboard,
  webDashboardAsset,
  openApiDocument: openApi,
  apiDocsPage,
  apiDocsAsset: apiDocsAssetHandler,
});

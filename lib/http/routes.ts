/**
 * The route table: the one list of HTTP routes. The CDK HTTP API and the local gateway are both
 * generated from it, and each function group dispatches on it, so they cannot disagree. Each route
 * also declares its request schemas (path, query, body) and its responses by status: handlers parse
 * with exactly those schema objects (lib/http/handler.ts checks it), and the OpenAPI document
 * (lib/http/openapi.ts, GET /openapi.json) is generated from them, so the contract cannot drift.
 *
 * Each group's routes are in lib/http/<group>.routes.ts: a function imports only its own (through
 * dispatch), so it bundles only its routes' schemas. This whole table is for what serves or
 * describes every route: the OpenAPI document, both CDK APIs, the local gateway and tests.
 */
import { ARTIFACTS_ROUTES } from './artifacts.routes';
import { BUILDS_ROUTES } from './builds.routes';
import { DASHBOARD_ROUTES } from './dashboard.routes';
import { IDENTITY_ROUTES } from './identity.routes';
import { LINEAGE_ROUTES } from './lineage.routes';
import { OIDC_ROUTES } from './oidc.routes';
import { PROVENANCE_ROUTES } from './provenance.routes';
import { REFERENCE_ROUTES } from './reference.routes';
import type { Route } from './route';
import { STATES_ROUTES } from './states.routes';
import { SYSTEM_ROUTES } from './system.routes';

export { API_DOCS_ASSETS, apiDocsAssetSchema } from './dashboard.routes';
export {
  type FunctionGroup,
  type RequestHeader,
  type ResponseHeader,
  type Route,
  type RouteRequest,
  type RouteResponse,
  type RouteScope,
  routeKey,
} from './route';

/** Every route, group by group (the OpenAPI document, both APIs and the local gateway). */
export const ROUTES: readonly Route[] = [
  ...DASHBOARD_ROUTES,
  ...SYSTEM_ROUTES,
  ...BUILDS_ROUTES,
  ...STATES_ROUTES,
  ...ARTIFACTS_ROUTES,
  ...IDENTITY_ROUTES,
  ...OIDC_ROUTES,
  ...REFERENCE_ROUTES,
  ...LINEAGE_ROUTES,
  ...PROVENANCE_ROUTES,
];

/**
 * The route table: the one list of HTTP routes. The CDK HTTP API and the local gateway are both
 * generated from it, and each function group dispatches on it, so they cannot disagree.
 */
import { REFERENCE_KINDS, type ReferenceKind } from '../reference/reference.model';

export type FunctionGroup =
  | 'system'
  | 'builds'
  | 'states'
  | 'artifacts'
  | 'identity'
  | 'reference'
  | 'dashboard';
/**
 * The scope a caller needs: `admin` ⊃ `write` ⊃ `read`. `none` routes run without credentials.
 * docs/API.md lists every route with its scope (a unit test keeps the two equal).
 */
export type RouteScope = 'none' | 'read' | 'write' | 'admin';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  group: FunctionGroup;
  /** Name of the handler inside its group (functions/<group>/index.ts exports them by this name). */
  handler: string;
  scope: RouteScope;
  summary: string;
}

/** Reference data: the same six routes for each kind (projects, platforms, OS versions, image types). */
const referenceRoutes = (kind: ReferenceKind): Route[] => {
  const base = `/${kind.path}`;
  const one = `${base}/{id}`;
  const n = kind.handlerName;
  return [
    {
      method: 'POST',
      path: base,
      group: 'reference',
      handler: `create${n}`,
      scope: 'write',
      summary: `Create ${kind.article} ${kind.label}`,
    },
    {
      method: 'GET',
      path: base,
      group: 'reference',
      handler: `list${n}s`,
      scope: 'read',
      summary: `List ${kind.label}s (active only unless include_deactivated=true)`,
    },
    {
      method: 'GET',
      path: one,
      group: 'reference',
      handler: `get${n}`,
      scope: 'read',
      summary: `Get ${kind.article} ${kind.label}`,
    },
    {
      method: 'PUT',
      path: one,
      group: 'reference',
      handler: `update${n}`,
      scope: 'write',
      summary: `Update ${kind.article} ${kind.label}'s fields`,
    },
    {
      method: 'DELETE',
      path: one,
      group: 'reference',
      handler: `deactivate${n}`,
      scope: 'admin',
      summary: `Deactivate ${kind.article} ${kind.label} (soft delete)`,
    },
    {
      method: 'POST',
      path: `${one}/restore`,
      group: 'reference',
      handler: `restore${n}`,
      scope: 'admin',
      summary: `Reactivate a deactivated ${kind.label}`,
    },
  ];
};

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/',
    group: 'dashboard',
    handler: 'webDashboard',
    scope: 'none',
    summary: 'The web dashboard (an HTML page; it calls the API with your key)',
  },
  { method: 'GET', path: '/health', group: 'system', handler: 'health', scope: 'none', summary: 'Liveness' },
  {
    method: 'GET',
    path: '/ready',
    group: 'system',
    handler: 'ready',
    scope: 'read',
    summary: 'Readiness (checks the table)',
  },
  {
    method: 'GET',
    path: '/whoami',
    group: 'system',
    handler: 'whoami',
    scope: 'read',
    summary: 'The caller as the service sees it',
  },
  {
    method: 'POST',
    path: '/builds',
    group: 'builds',
    handler: 'createBuild',
    scope: 'write',
    summary: 'Create a build',
  },
  {
    method: 'GET',
    path: '/builds',
    group: 'builds',
    handler: 'listBuilds',
    scope: 'read',
    summary: 'List builds, newest first',
  },
  {
    method: 'GET',
    path: '/builds/{id}',
    group: 'builds',
    handler: 'getBuild',
    scope: 'read',
    summary: 'Get a build',
  },
  {
    method: 'GET',
    path: '/builds/{id}/history',
    group: 'builds',
    handler: 'getHistory',
    scope: 'read',
    summary: 'State history of a build',
  },
  {
    method: 'POST',
    path: '/builds/{id}/cancel',
    group: 'builds',
    handler: 'cancelBuild',
    scope: 'write',
    summary: 'Cancel a build',
  },
  {
    method: 'POST',
    path: '/builds/{id}/unblock',
    group: 'builds',
    handler: 'unblockBuild',
    scope: 'write',
    summary: 'Allow another attempt of a blocked build',
  },
  {
    method: 'POST',
    path: '/builds/{id}/states',
    group: 'states',
    handler: 'reportState',
    scope: 'write',
    summary: 'Report a state',
  },
  {
    method: 'GET',
    path: '/builds/{id}/resume',
    group: 'artifacts',
    handler: 'getResume',
    scope: 'read',
    summary: 'What a worker should do next',
  },
  {
    method: 'POST',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'acquireLease',
    scope: 'write',
    summary: 'Take the lease on a build (409 lease_held while another worker holds a live one)',
  },
  {
    method: 'GET',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'getLease',
    scope: 'read',
    summary: 'Who holds the lease, and the last heartbeat',
  },
  {
    method: 'PUT',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'renewLease',
    scope: 'write',
    summary: "Renew the lease (the holder's heartbeat)",
  },
  {
    method: 'DELETE',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'releaseLease',
    scope: 'write',
    summary: 'Release the lease',
  },
  {
    method: 'POST',
    path: '/builds/{id}/heartbeat',
    group: 'states',
    handler: 'heartbeat',
    scope: 'write',
    summary: 'Record a heartbeat without a lease',
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts',
    group: 'artifacts',
    handler: 'registerArtifact',
    scope: 'write',
    summary: 'Register an artifact of a state (managed upload or external pointer)',
  },
  {
    method: 'GET',
    path: '/builds/{id}/artifacts',
    group: 'artifacts',
    handler: 'listArtifacts',
    scope: 'read',
    summary: 'All artifacts of a build, grouped by state',
  },
  {
    method: 'GET',
    path: '/builds/{id}/states/{code}/artifacts/{name}',
    group: 'artifacts',
    handler: 'getArtifact',
    scope: 'read',
    summary: 'One artifact, with a download URL for managed artifacts',
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts/{name}/verify',
    group: 'artifacts',
    handler: 'verifyArtifact',
    scope: 'write',
    summary: 'Check size and checksum; mark the artifact verified',
  },
  {
    method: 'POST',
    path: '/auth/token',
    group: 'identity',
    handler: 'issueToken',
    scope: 'none',
    summary: 'Exchange a username and password for a short-lived JWT',
  },
  {
    method: 'POST',
    path: '/api-keys',
    group: 'identity',
    handler: 'createApiKey',
    scope: 'admin',
    summary: 'Create an API key (the secret is shown once)',
  },
  {
    method: 'GET',
    path: '/api-keys',
    group: 'identity',
    handler: 'listApiKeys',
    scope: 'admin',
    summary: 'List API keys (never their secrets)',
  },
  {
    method: 'DELETE',
    path: '/api-keys/{id}',
    group: 'identity',
    handler: 'revokeApiKey',
    scope: 'admin',
    summary: 'Revoke an API key at once',
  },
  {
    method: 'POST',
    path: '/users',
    group: 'identity',
    handler: 'createUser',
    scope: 'admin',
    summary: 'Create a user',
  },
  {
    method: 'GET',
    path: '/users',
    group: 'identity',
    handler: 'listUsers',
    scope: 'admin',
    summary: 'List users (active only unless include_deactivated=true)',
  },
  {
    method: 'DELETE',
    path: '/users/{username}',
    group: 'identity',
    handler: 'deactivateUser',
    scope: 'admin',
    summary: 'Deactivate a user (soft delete); their tokens stop working',
  },
  ...REFERENCE_KINDS.flatMap(referenceRoutes),
  {
    method: 'GET',
    path: '/projects/{id}/state-codes',
    group: 'reference',
    handler: 'getStateCodes',
    scope: 'read',
    summary: "A project's state catalog",
  },
  {
    method: 'PUT',
    path: '/projects/{id}/state-codes',
    group: 'reference',
    handler: 'putStateCodes',
    scope: 'admin',
    summary: "Replace a project's state catalog",
  },
  {
    method: 'GET',
    path: '/dashboard/summary',
    group: 'dashboard',
    handler: 'summary',
    scope: 'read',
    summary:
      'Builds by status and platform, active builds with progress and ETA, failures, 7-day success rate',
  },
  {
    method: 'GET',
    path: '/dashboard/durations',
    group: 'dashboard',
    handler: 'durations',
    scope: 'read',
    summary: 'p50/p90/p95 duration per state code per platform',
  },
  {
    method: 'GET',
    path: '/dashboard/stuck',
    group: 'dashboard',
    handler: 'stuck',
    scope: 'read',
    summary: 'Running attempts that are silent or overdue',
  },
];

export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

const byKey = new Map(ROUTES.map((r) => [routeKey(r), r]));
export const findRoute = (key: string | undefined): Route | undefined => (key ? byKey.get(key) : undefined);

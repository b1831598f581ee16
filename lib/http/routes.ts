/**
 * The route table: the one list of HTTP routes. The CDK HTTP API and the local gateway are both
 * generated from it, and each function group dispatches on it, so they cannot disagree.
 */
export type FunctionGroup = 'system' | 'builds' | 'states' | 'artifacts';
export type RouteAuth = 'none' | 'required';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  group: FunctionGroup;
  /** Name of the handler inside its group (functions/<group>/index.ts exports them by this name). */
  handler: string;
  auth: RouteAuth;
  summary: string;
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/health', group: 'system', handler: 'health', auth: 'none', summary: 'Liveness' },
  {
    method: 'GET',
    path: '/ready',
    group: 'system',
    handler: 'ready',
    auth: 'required',
    summary: 'Readiness (checks the table)',
  },
  {
    method: 'GET',
    path: '/whoami',
    group: 'system',
    handler: 'whoami',
    auth: 'required',
    summary: 'The caller as the service sees it',
  },
  {
    method: 'POST',
    path: '/builds',
    group: 'builds',
    handler: 'createBuild',
    auth: 'required',
    summary: 'Create a build',
  },
  {
    method: 'GET',
    path: '/builds',
    group: 'builds',
    handler: 'listBuilds',
    auth: 'required',
    summary: 'List builds, newest first',
  },
  {
    method: 'GET',
    path: '/builds/{id}',
    group: 'builds',
    handler: 'getBuild',
    auth: 'required',
    summary: 'Get a build',
  },
  {
    method: 'GET',
    path: '/builds/{id}/history',
    group: 'builds',
    handler: 'getHistory',
    auth: 'required',
    summary: 'State history of a build',
  },
  {
    method: 'POST',
    path: '/builds/{id}/cancel',
    group: 'builds',
    handler: 'cancelBuild',
    auth: 'required',
    summary: 'Cancel a build',
  },
  {
    method: 'POST',
    path: '/builds/{id}/unblock',
    group: 'builds',
    handler: 'unblockBuild',
    auth: 'required',
    summary: 'Allow another attempt of a blocked build',
  },
  {
    method: 'POST',
    path: '/builds/{id}/states',
    group: 'states',
    handler: 'reportState',
    auth: 'required',
    summary: 'Report a state',
  },
  {
    method: 'GET',
    path: '/builds/{id}/resume',
    group: 'states',
    handler: 'getResume',
    auth: 'required',
    summary: 'What a worker should do next',
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts',
    group: 'artifacts',
    handler: 'registerArtifact',
    auth: 'required',
    summary: 'Register an artifact of a state (managed upload or external pointer)',
  },
  {
    method: 'GET',
    path: '/builds/{id}/artifacts',
    group: 'artifacts',
    handler: 'listArtifacts',
    auth: 'required',
    summary: 'All artifacts of a build, grouped by state',
  },
  {
    method: 'GET',
    path: '/builds/{id}/states/{code}/artifacts/{name}',
    group: 'artifacts',
    handler: 'getArtifact',
    auth: 'required',
    summary: 'One artifact, with a download URL for managed artifacts',
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts/{name}/verify',
    group: 'artifacts',
    handler: 'verifyArtifact',
    auth: 'required',
    summary: 'Check size and checksum; mark the artifact verified',
  },
];

export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}`;

const byKey = new Map(ROUTES.map((r) => [routeKey(r), r]));
export const findRoute = (key: string | undefined): Route | undefined => (key ? byKey.get(key) : undefined);

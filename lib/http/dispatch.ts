import type { Context } from 'aws-lambda';
import { AppError } from '../errors';
import { errorBody, type HttpEvent, type HttpResult, json } from './http';
import { type FunctionGroup, findRoute, type Route, serveRoutes } from './route';

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * One Lambda per function group: routes the event to the group's handler named in the group's
 * part of the route table (lib/http/<group>.routes.ts, the only part the function bundles).
 * A group whose handlers and route table disagree fails at cold start, not on some later request.
 */
export function dispatch(
  group: FunctionGroup,
  routes: readonly Route[],
  handlers: Record<string, Handler>,
): Handler {
  const strangers = routes.filter((r) => r.group !== group).map((r) => `${r.method} ${r.path}`);
  if (strangers.length)
    throw new Error(`Function group '${group}' was given other groups' routes: [${strangers}]`);
  serveRoutes(routes);
  const declared = routes.map((r) => r.handler);
  const missing = declared.filter((name) => !handlers[name]);
  const extra = Object.keys(handlers).filter((name) => !declared.includes(name));
  if (missing.length || extra.length) {
    throw new Error(
      `Function group '${group}' does not match the route table: missing [${missing}] extra [${extra}]`,
    );
  }
  return async (event, context) => {
    const route = findRoute(event.routeKey);
    if (!route || route.group !== group) {
      return json(404, errorBody(new AppError('not_found', `No route ${event.routeKey} in this function`)));
    }
    return handlers[route.handler]!(event, context);
  };
}

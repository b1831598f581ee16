import type { Context } from 'aws-lambda';
import { AppError } from '../errors';
import type { RouteHandler } from './handler';
import { errorBody, type HttpEvent, type HttpResult, json } from './http';
import { type FunctionGroup, type Route, routeKey } from './route';

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/**
 * One Lambda per function group: routes the event to the group's handler named in the group's
 * part of the route table (lib/http/<group>.routes.ts, the only part the function bundles). Each
 * handler is bound to its route here, at cold start, from the table passed in: nothing is looked
 * up in a registry that importing a module fills. A group whose handlers and route table disagree
 * fails at cold start, not on some later request.
 */
export function dispatch(
  group: FunctionGroup,
  routes: readonly Route[],
  handlers: Record<string, RouteHandler>,
): Handler {
  const strangers = routes.filter((r) => r.group !== group).map((r) => `${r.method} ${r.path}`);
  if (strangers.length)
    throw new Error(`Function group '${group}' was given other groups' routes: [${strangers}]`);
  const declared = routes.map((r) => r.handler);
  const missing = declared.filter((name) => !handlers[name]);
  const extra = Object.keys(handlers).filter((name) => !declared.includes(name));
  if (missing.length || extra.length) {
    throw new Error(
      `Function group '${group}' does not match the route table: missing [${missing}] extra [${extra}]`,
    );
  }
  const bound = new Map(routes.map((route) => [routeKey(route), handlers[route.handler]!(route)]));
  return async (event, context) => {
    const handler = event.routeKey ? bound.get(event.routeKey) : undefined;
    if (!handler) {
      return json(404, errorBody(new AppError('not_found', `No route ${event.routeKey} in this function`)));
    }
    return handler(event, context);
  };
}

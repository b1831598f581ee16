/**
 * The system group: health, readiness, whoami. Part of the route table (lib/http/routes.ts).
 */
import { whoamiViewSchema } from '../auth/identity.view';
import { ok, type Route } from './route';
import { healthViewSchema, readyViewSchema } from './system.view';

export const SYSTEM_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/health',
    group: 'system',
    handler: 'health',
    scope: 'none',
    summary: 'Liveness',
    responses: { 200: ok('The service answers', healthViewSchema) },
  },
  {
    method: 'GET',
    path: '/ready',
    group: 'system',
    handler: 'ready',
    scope: 'read',
    summary: 'Readiness (checks the table)',
    responses: { 200: ok('The table answers (503 unavailable otherwise)', readyViewSchema) },
  },
  {
    method: 'GET',
    path: '/whoami',
    group: 'system',
    handler: 'whoami',
    scope: 'read',
    summary: 'The caller as the service sees it',
    responses: { 200: ok('The principal', whoamiViewSchema) },
  },
];

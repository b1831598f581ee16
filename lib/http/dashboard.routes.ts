/**
 * The dashboard group: the web page, the OpenAPI document, the API reference, the dashboard API
 * and /status. Part of the route table (lib/http/routes.ts).
 */

import { costsQuerySchema, durationsQuerySchema, summaryQuerySchema } from '../dashboard/dashboard.schema';
import {
  costsViewSchema,
  durationsViewSchema,
  stuckViewSchema,
  summaryViewSchema,
} from '../dashboard/dashboard.view';
import * as z from '../zod';
import { ok, type Route, type RouteResponse } from './route';
import { statusViewSchema } from './system.view';

/** The files GET /docs/{asset} serves: Swagger UI's own two from swagger-ui-dist, and the page's script. */
export const API_DOCS_ASSETS = ['swagger-ui-bundle.js', 'swagger-ui.css', 'api-docs.js'] as const;
export const apiDocsAssetSchema = z.enum(API_DOCS_ASSETS);
/** The files GET /web/{asset} serves: the dashboard's bundled script and its style sheet (web/dashboard/). */
export const DASHBOARD_ASSETS = ['dashboard.js', 'dashboard.css'] as const;
export const dashboardAssetSchema = z.enum(DASHBOARD_ASSETS);
const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

const page = (contentType: RouteResponse['contentType'], description: string): RouteResponse => ({
  description,
  contentType,
  headers: ['Cache-Control'],
});

export const DASHBOARD_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/',
    group: 'dashboard',
    handler: 'webDashboard',
    scope: 'none',
    summary: 'The web dashboard (an HTML page; it calls the API with your key)',
    responses: { 200: page('text/html', 'The page') },
  },
  {
    method: 'GET',
    path: '/web/{asset}',
    group: 'dashboard',
    handler: 'webDashboardAsset',
    scope: 'none',
    summary: "The web dashboard's script or style sheet (built from web/dashboard/ by esbuild)",
    request: { path: { asset: dashboardAssetSchema } },
    responses: {
      200: {
        description: 'The file (text/javascript or text/css)',
        contentType: 'text/javascript',
        headers: ['Cache-Control'],
      },
    },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/openapi.json',
    group: 'dashboard',
    handler: 'openApiDocument',
    scope: 'none',
    summary: 'This API as an OpenAPI 3.1 document (generated from the route table at build time)',
    responses: {
      200: ok('The OpenAPI document', openApiDocumentSchema, ['Cache-Control']),
    },
  },
  {
    method: 'GET',
    path: '/docs',
    group: 'dashboard',
    handler: 'apiDocsPage',
    scope: 'none',
    summary: 'Interactive API reference (Swagger UI, served from the function, no CDN)',
    responses: { 200: page('text/html', 'The page') },
  },
  {
    method: 'GET',
    path: '/docs/{asset}',
    group: 'dashboard',
    handler: 'apiDocsAsset',
    scope: 'none',
    summary: 'A script or style sheet of the API reference page (from the swagger-ui-dist package)',
    request: { path: { asset: apiDocsAssetSchema } },
    responses: {
      200: {
        description: 'The file (text/javascript or text/css)',
        contentType: 'text/javascript',
        headers: ['Cache-Control'],
      },
    },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/dashboard/summary',
    group: 'dashboard',
    handler: 'summary',
    scope: 'read',
    summary:
      'Builds by status and platform, active builds with progress and ETA, failures, 7-day success rate',
    request: { query: summaryQuerySchema },
    responses: { 200: ok('The summary', summaryViewSchema) },
  },
  {
    method: 'GET',
    path: '/dashboard/durations',
    group: 'dashboard',
    handler: 'durations',
    scope: 'read',
    summary: 'p50/p90/p95 duration per state code per platform',
    request: { query: durationsQuerySchema },
    responses: { 200: ok('Durations by platform and state', durationsViewSchema) },
  },
  {
    method: 'GET',
    path: '/dashboard/costs',
    group: 'dashboard',
    handler: 'costs',
    scope: 'read',
    summary: 'What priced attempts cost, by platform, project, image type or state, per currency',
    request: { query: costsQuerySchema },
    responses: { 200: ok('Costs by group and currency since a UTC day (flat read cost)', costsViewSchema) },
  },
  {
    method: 'GET',
    path: '/status',
    group: 'dashboard',
    handler: 'status',
    scope: 'read',
    summary: "The seeds' status overview: version, uptime, table and artifact store checks, builds by status",
    responses: { 200: ok('The overview; status is degraded when a store does not answer', statusViewSchema) },
  },
  {
    method: 'GET',
    path: '/dashboard/stuck',
    group: 'dashboard',
    handler: 'stuck',
    scope: 'read',
    summary: 'Running attempts that are silent or overdue',
    responses: { 200: ok('The stuck attempts', stuckViewSchema) },
  },
];

/**
 * The builds group: create, list, get, fork, children, history, cancel, unblock. Part of the route
 * table (lib/http/routes.ts).
 */
import {
  cancelSchema,
  childrenQuerySchema,
  createBuildSchema,
  forkSchema,
  historyQuerySchema,
  listBuildsQuerySchema,
  unblockSchema,
} from '../builds/build.schema';
import {
  buildPageSchema,
  buildViewSchema,
  buildWithChildrenSchema,
  forkViewSchema,
  historyPageSchema,
} from '../builds/build.view';
import { BUILD_PATH } from './path-params';
import { BUILD_CHANGE_ERRORS, created, ok, type Route } from './route';

const buildPath = BUILD_PATH;

export const BUILDS_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/builds',
    group: 'builds',
    handler: 'createBuild',
    scope: 'write',
    summary: 'Create a build',
    request: { body: createBuildSchema, headers: ['Idempotency-Key'] },
    responses: {
      201: created('The new build', buildViewSchema, ['ETag', 'Location', 'Idempotent-Replayed']),
    },
    errors: ['build_exists', 'unknown_reference', 'idempotency_mismatch'],
  },
  {
    method: 'GET',
    path: '/builds',
    group: 'builds',
    handler: 'listBuilds',
    scope: 'read',
    summary: 'List builds, newest first',
    request: { query: listBuildsQuerySchema },
    responses: { 200: ok('A page of builds', buildPageSchema) },
  },
  {
    method: 'GET',
    path: '/builds/{id}',
    group: 'builds',
    handler: 'getBuild',
    scope: 'read',
    summary: 'Get a build',
    request: { path: buildPath },
    responses: {
      200: ok('The build; a parent of a fork also shows `children`, its roll-up', buildWithChildrenSchema, [
        'ETag',
      ]),
    },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/fork',
    group: 'builds',
    handler: 'forkBuild',
    scope: 'write',
    summary: 'Fork a build: children that start from its completed states up to at_state',
    request: { path: buildPath, body: forkSchema, headers: ['Idempotency-Key'] },
    responses: { 201: created('The children, in the order asked', forkViewSchema, ['Idempotent-Replayed']) },
    errors: [
      'not_found',
      'state_not_reached',
      'build_exists',
      'unknown_reference',
      'conflict',
      'idempotency_mismatch',
    ],
  },
  {
    method: 'GET',
    path: '/builds/{id}/children',
    group: 'builds',
    handler: 'listChildren',
    scope: 'read',
    summary: 'The children of a fork parent, newest first',
    request: { path: buildPath, query: childrenQuerySchema },
    responses: { 200: ok('A page of builds', buildPageSchema) },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/history',
    group: 'builds',
    handler: 'getHistory',
    scope: 'read',
    summary: 'State history of a build',
    request: { path: buildPath, query: historyQuerySchema },
    responses: { 200: ok('A page of history entries, oldest first', historyPageSchema) },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/cancel',
    group: 'builds',
    handler: 'cancelBuild',
    scope: 'write',
    summary: 'Cancel a build',
    request: { path: buildPath, body: cancelSchema, headers: ['Idempotency-Key', 'If-Match'] },
    responses: { 200: ok('The build, cancelled', buildViewSchema, ['ETag', 'Idempotent-Replayed']) },
    errors: BUILD_CHANGE_ERRORS,
  },
  {
    method: 'POST',
    path: '/builds/{id}/unblock',
    group: 'builds',
    handler: 'unblockBuild',
    scope: 'write',
    summary: 'Allow another attempt of a blocked build',
    request: { path: buildPath, body: unblockSchema, headers: ['Idempotency-Key', 'If-Match'] },
    responses: {
      200: ok('The build, failed again with attempts to spare', buildViewSchema, [
        'ETag',
        'Idempotent-Replayed',
      ]),
    },
    errors: [...BUILD_CHANGE_ERRORS, 'not_blocked'],
  },
];

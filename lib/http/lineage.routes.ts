/**
 * The lineage group: published images, ancestry, channels, revocation. Part of the route table
 * (lib/http/routes.ts).
 */
import {
  channelGetQuerySchema,
  channelHistoryQuerySchema,
  channelNameSchema,
  channelSetSchema,
  imageInputSchema,
  lineageQuerySchema,
  restoreSchema,
  revokeSchema,
} from '../lineage/lineage.schema';
import {
  channelHistorySchema,
  channelListSchema,
  channelViewSchema,
  imageListSchema,
  imageViewSchema,
  lineageViewSchema,
  restoreViewSchema,
  revocationViewSchema,
} from '../lineage/lineage.view';
import { BUILD_PATH } from './path-params';
import { created, ok, type Route } from './route';

const buildPath = BUILD_PATH;
const channelPath = { name: channelNameSchema };

export const LINEAGE_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/builds/{id}/images',
    group: 'lineage',
    handler: 'addImage',
    scope: 'write',
    summary: 'Record an image the build published (an AMI, an Azure image version, a GCE image …)',
    request: { path: buildPath, body: imageInputSchema },
    responses: {
      201: created('The image, recorded', imageViewSchema),
      200: {
        ...ok('The same image was recorded before: the record, unchanged', imageViewSchema),
        outcome: 'unchanged',
      },
    },
    errors: ['not_found', 'conflict'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/images',
    group: 'lineage',
    handler: 'listImages',
    scope: 'read',
    summary: "The build's published images",
    request: { path: buildPath },
    responses: { 200: ok('Every image of the build', imageListSchema) },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/lineage',
    group: 'lineage',
    handler: 'getLineage',
    scope: 'read',
    summary:
      'Ancestors and (a page of) descendants of a build: fork parents and children, bases and builds on them',
    request: { path: buildPath, query: lineageQuerySchema },
    responses: { 200: ok('The ancestors and a page of descendants', lineageViewSchema) },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/revoke',
    group: 'lineage',
    handler: 'revokeBuild',
    scope: 'admin',
    summary: 'Revoke a build and every descendant (resumable, idempotent)',
    request: { path: buildPath, body: revokeSchema, headers: ['Idempotency-Key'] },
    responses: {
      200: ok('The revocation, applied to the build and all its descendants', revocationViewSchema, [
        'Idempotent-Replayed',
      ]),
    },
    errors: ['not_found', 'conflict', 'idempotency_mismatch'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/restore',
    group: 'lineage',
    handler: 'restoreBuild',
    scope: 'admin',
    summary: "Undo a build's revocation, on it and the descendants it revoked",
    request: { path: buildPath, body: restoreSchema, bodyOptional: true, headers: ['Idempotency-Key'] },
    responses: { 200: ok('What was restored', restoreViewSchema, ['Idempotent-Replayed']) },
    errors: ['not_found', 'revoked', 'conflict', 'idempotency_mismatch'],
  },
  {
    method: 'GET',
    path: '/channels',
    group: 'lineage',
    handler: 'listChannels',
    scope: 'read',
    summary: 'Every channel and the build it points at',
    responses: { 200: ok('The channels, by name', channelListSchema) },
  },
  {
    method: 'PUT',
    path: '/channels/{name}',
    group: 'lineage',
    handler: 'setChannel',
    scope: 'write',
    summary: 'Point a channel at a completed, unrevoked build (promote)',
    request: { path: channelPath, body: channelSetSchema, headers: ['Idempotency-Key'] },
    responses: { 200: ok('The channel', channelViewSchema, ['Idempotent-Replayed']) },
    errors: ['not_found', 'not_completed', 'revoked', 'conflict', 'idempotency_mismatch'],
  },
  {
    method: 'GET',
    path: '/channels/{name}',
    group: 'lineage',
    handler: 'getChannel',
    scope: 'read',
    summary: 'The build a channel points at, with its images (one with ?cloud=&region=)',
    request: { path: channelPath, query: channelGetQuerySchema },
    responses: { 200: ok('The channel', channelViewSchema) },
    errors: ['not_found', 'revoked'],
  },
  {
    method: 'GET',
    path: '/channels/{name}/history',
    group: 'lineage',
    handler: 'getChannelHistory',
    scope: 'read',
    summary: 'Every assignment of a channel, oldest first (append-only)',
    request: { path: channelPath, query: channelHistoryQuerySchema },
    responses: { 200: ok('A page of assignments', channelHistorySchema) },
    errors: ['not_found'],
  },
];

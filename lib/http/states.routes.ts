/**
 * The states group: state reports (and the seeds' singular alias), leases and heartbeats. Part of
 * the route table (lib/http/routes.ts).
 */

import { stateReportWithArtifactsSchema } from '../artifacts/artifact.schema';
import { artifactViewSchema } from '../artifacts/artifact.view';
import { buildViewSchema, lostAttemptViewSchema } from '../builds/build.view';
import {
  acquireLeaseSchema,
  heartbeatSchema,
  releaseLeaseSchema,
  renewLeaseSchema,
} from '../leases/lease.schema';
import {
  heartbeatViewSchema,
  leaseReleasedSchema,
  leaseStatusSchema,
  leaseViewSchema,
} from '../leases/lease.view';
import * as z from '../zod';
import { BUILD_PATH } from './path-params';
import { BUILD_CHANGE_ERRORS, created, ok, type Route } from './route';

const buildPath = BUILD_PATH;

/** POST /builds/{id}/states; the seeds' singular path is an alias of it. */
const REPORT_STATE_ROUTE: Route = {
  method: 'POST',
  path: '/builds/{id}/states',
  group: 'states',
  handler: 'reportState',
  scope: 'write',
  summary: 'Report a state',
  request: {
    path: buildPath,
    body: stateReportWithArtifactsSchema,
    headers: ['Idempotency-Key', 'If-Match', 'X-Lease-Id'],
  },
  responses: {
    201: created(
      'The build after the report; with `artifacts` in the request, also the artifacts it registered',
      z.extend(buildViewSchema, {
        artifacts: z.optional(z.array(artifactViewSchema)),
        took_over: z.optional(
          lostAttemptViewSchema.check(
            z.meta({
              description:
                'This in_progress report took over a lost attempt (its worker died): that attempt, now recorded failed with error_code worker_lost',
            }),
          ),
        ),
      }),
      ['ETag', 'Idempotent-Replayed'],
    ),
  },
  errors: [
    ...BUILD_CHANGE_ERRORS,
    'state_regression',
    'already_in_progress',
    'state_completed',
    'blocked',
    'lease_held',
    'lease_lost',
  ],
};

export const STATES_ROUTES: readonly Route[] = [
  REPORT_STATE_ROUTE,
  {
    ...REPORT_STATE_ROUTE,
    path: '/builds/{id}/state',
    operationId: 'reportStateSeedsAlias',
    summary: "Report a state: the seeds' path, the same as /builds/{id}/states",
  },
  {
    method: 'POST',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'acquireLease',
    scope: 'write',
    summary: 'Take the lease on a build (409 lease_held while another worker holds a live one)',
    request: { path: buildPath, body: acquireLeaseSchema },
    responses: { 201: created('The lease; send its lease_id as X-Lease-Id', leaseViewSchema) },
    errors: ['not_found', 'lease_held', 'build_completed', 'build_cancelled'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'getLease',
    scope: 'read',
    summary: 'Who holds the lease, and the last heartbeat',
    request: { path: buildPath },
    responses: {
      200: ok('The lease holder (null when none is live) and the last heartbeat', leaseStatusSchema),
    },
    errors: ['not_found'],
  },
  {
    method: 'PUT',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'renewLease',
    scope: 'write',
    summary: "Renew the lease (the holder's heartbeat)",
    request: { path: buildPath, body: renewLeaseSchema, bodyOptional: true, headers: ['X-Lease-Id'] },
    responses: { 200: ok('The lease, expiring ttl_s from now', leaseViewSchema) },
    errors: ['not_found', 'lease_lost'],
  },
  {
    method: 'DELETE',
    path: '/builds/{id}/lease',
    group: 'states',
    handler: 'releaseLease',
    scope: 'write',
    summary: 'Release the lease',
    request: { path: buildPath, body: releaseLeaseSchema, bodyOptional: true, headers: ['X-Lease-Id'] },
    responses: { 200: ok('Released (also when it already was)', leaseReleasedSchema) },
    errors: ['not_found', 'lease_lost'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/heartbeat',
    group: 'states',
    handler: 'heartbeat',
    scope: 'write',
    summary: 'Record a heartbeat without a lease',
    request: { path: buildPath, body: heartbeatSchema },
    responses: { 200: ok('The heartbeat, recorded', heartbeatViewSchema) },
    errors: ['not_found', 'lease_held', 'build_completed', 'build_cancelled'],
  },
];

/** Worker leases and heartbeats: thin adapters over lib/leases/lease.service.ts. */
import { leases } from '../../lib/compose/leases';
import { buildIdParam, fromOutcome, httpHandler, leaseIdHeader, parseBody } from '../../lib/http/handler';
import type { HttpRequest } from '../../lib/http/http';
import {
  acquireLeaseSchema,
  heartbeatSchema,
  releaseLeaseSchema,
  renewLeaseSchema,
} from '../../lib/leases/lease.schema';
import { created } from '../../lib/outcome';

/** PUT and DELETE name the lease in the body, in X-Lease-Id, or both (then they must agree). */
function withLeaseHeader(req: HttpRequest): Record<string, unknown> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const header = leaseIdHeader(req);
  if (header === undefined || typeof body !== 'object' || Array.isArray(body)) return body;
  if (body.lease_id !== undefined && body.lease_id !== header)
    return { ...body, lease_id: [body.lease_id, header] };
  return { ...body, lease_id: header };
}

export const acquireLease = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, acquireLeaseSchema, req.body ?? {});
  return fromOutcome(req, created(await leases().acquire(id, input)));
});

export const renewLease = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, renewLeaseSchema, withLeaseHeader(req));
  return fromOutcome(req, { body: await leases().renew(id, input.lease_id, input.ttl_s) });
});

export const releaseLease = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, releaseLeaseSchema, withLeaseHeader(req));
  return fromOutcome(req, { body: await leases().release(id, input.lease_id) });
});

export const getLease = httpHandler(async (req) => {
  return fromOutcome(req, { body: await leases().get(buildIdParam(req)) });
});

export const heartbeat = httpHandler(async (req) => {
  const id = buildIdParam(req);
  const input = parseBody(req, heartbeatSchema, req.body ?? {});
  return fromOutcome(req, { body: await leases().heartbeat(id, input) });
});

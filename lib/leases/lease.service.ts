/**
 * Worker leases and heartbeats. A lease says "this worker is running this build"; any worker may
 * take a build whose lease expired, and the fence (one more for every lease granted) tells a
 * worker that its lease was taken over. State reports are checked against the lease inside their
 * own transaction (the live item part, lib/builds/live.item.ts, composed by BuildService); this
 * service only grants and ends leases.
 */

import { ulid } from 'ulid';
import type { Build } from '../builds/build.model';
import { TERMINAL_STATUSES } from '../builds/build.model';
import { leaseHolder } from '../builds/lease-holder';
import type { LiveItem } from '../builds/live.item';
import { canonicalDecimal } from '../cost/money';
import { AppError, notFound } from '../errors';
import type { LeaseRepository, NewLease, WriteResult } from './lease.repository';
import type { AcquireLeaseInput, HeartbeatInput } from './lease.schema';

export interface LeaseServiceDeps {
  leases: LeaseRepository;
  /** Reads a build (consistent), so leases are only granted on builds that exist and are open. */
  getBuild(id: string): Promise<Build | null>;
  /**
   * Told after a lease was taken or released (the build item's lease_id changed without a new
   * version), so this runtime's cached build can follow: a hint only, never needed for correctness.
   */
  leaseChanged?(buildId: string, leaseId: string | null, hourlyCost?: string | null): void;
  clock?: () => Date;
  newId?: () => string;
}

export class LeaseService {
  private readonly clock: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: LeaseServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.newId = deps.newId ?? ulid;
  }

  async acquire(buildId: string, input: AcquireLeaseInput) {
    const build = await this.openBuild(buildId);
    const now = this.clock();
    const lease: NewLease = {
      attemptLeaseId: build.attempt_lease_id ?? null,
      leaseId: this.newId(),
      workerId: input.worker_id,
      ttlSeconds: input.ttl_s,
      nowMs: now.getTime(),
      hourlyCost: input.hourly_cost === undefined ? null : canonicalDecimal(input.hourly_cost),
    };
    const result = await this.deps.leases.acquire(buildId, lease);
    if (!result.ok) {
      const holder = result.live ? leaseHolder(result.live, now) : null;
      throw new AppError(
        'lease_held',
        `Build '${buildId}' is leased by worker '${holder?.worker_id}' until ${holder?.expires_at}`,
        { build_id: buildId, holder },
      );
    }
    this.deps.leaseChanged?.(buildId, lease.leaseId, lease.hourlyCost ?? null);
    return leaseView(buildId, result.live, now);
  }

  async renew(buildId: string, leaseId: string, ttlSeconds: number | undefined) {
    const now = this.clock();
    const result = await this.deps.leases.renew(buildId, leaseId, ttlSeconds, now.getTime());
    if (!result.ok) throw await this.lost(buildId, leaseId, result, now);
    return leaseView(buildId, result.live, now);
  }

  /** Idempotent for its holder: releasing a lease that is already gone succeeds. */
  async release(buildId: string, leaseId: string) {
    const now = this.clock();
    const result = await this.deps.leases.release(buildId, leaseId);
    if (!result.ok) {
      if (!result.live?.lease_id) {
        if (!result.live && !(await this.deps.getBuild(buildId))) throw notFound('build', buildId);
        return { build_id: buildId, released: true, lease: null };
      }
      throw await this.lost(buildId, leaseId, result, now);
    }
    this.deps.leaseChanged?.(buildId, null);
    return { build_id: buildId, released: true, lease: null };
  }

  async get(buildId: string) {
    const now = this.clock();
    const live = await this.deps.leases.get(buildId);
    if (!live && !(await this.deps.getBuild(buildId))) throw notFound('build', buildId);
    return {
      build_id: buildId,
      lease: live ? leaseHolder(live, now) : null,
      lease_fence: live?.lease_fence ?? 0,
      last_heartbeat_at: live?.last_heartbeat_at ?? null,
      heartbeat_worker_id: live?.heartbeat_worker_id ?? null,
    };
  }

  /** A heartbeat from a worker that holds no lease: refused while another worker's lease is live. */
  async heartbeat(buildId: string, input: HeartbeatInput) {
    const now = this.clock();
    let result = await this.deps.leases.heartbeat(buildId, input.worker_id, now.getTime());
    if (!result.ok && !result.live) {
      // No live item: a build created before live items existed, or no build at all.
      await this.openBuild(buildId);
      result = await this.deps.leases.heartbeat(buildId, input.worker_id, now.getTime(), false);
    }
    if (!result.ok) {
      const holder = result.live ? leaseHolder(result.live, now) : null;
      throw new AppError(
        'lease_held',
        `Build '${buildId}' is leased by worker '${holder?.worker_id}'; heartbeats come from the holder (PUT /builds/${buildId}/lease)`,
        { build_id: buildId, holder },
      );
    }
    return {
      build_id: buildId,
      worker_id: input.worker_id,
      last_heartbeat_at: result.live.last_heartbeat_at,
    };
  }

  private async openBuild(buildId: string): Promise<Build> {
    const build = await this.deps.getBuild(buildId);
    if (!build) throw notFound('build', buildId);
    if (TERMINAL_STATUSES.has(build.status)) {
      throw new AppError(
        build.status === 'completed' ? 'build_completed' : 'build_cancelled',
        `Build '${buildId}' is ${build.status}; there is nothing left to lease`,
        { build_id: buildId, status: build.status },
      );
    }
    return build;
  }

  private async lost(buildId: string, leaseId: string, result: WriteResult, now: Date): Promise<AppError> {
    if (!result.live && !(await this.deps.getBuild(buildId))) return notFound('build', buildId);
    const holder = result.live ? leaseHolder(result.live, now) : null;
    return new AppError(
      'lease_lost',
      `Lease '${leaseId}' on build '${buildId}' is no longer held${holder ? ` (worker '${holder.worker_id}' holds fence ${holder.fence})` : ''}; take a new lease before going on`,
      { build_id: buildId, lease_id: leaseId, holder },
    );
  }
}

function leaseView(buildId: string, live: LiveItem, now: Date) {
  return {
    build_id: buildId,
    lease_id: live.lease_id!,
    worker_id: live.lease_worker_id!,
    fence: live.lease_fence!,
    acquired_at: live.lease_acquired_at!,
    expires_at: new Date(live.lease_expires_ms!).toISOString(),
    ttl_s: live.lease_ttl_s!,
    server_time: now.toISOString(),
  };
}

/**
 * The worker's lease on a build while `bldst run` or `bldst pipeline run` works on it: taken at
 * the start, renewed every third of its TTL (the heartbeat), released at the end. If another
 * worker took the build over, the renewal says so and `onLost` stops the running command: its
 * reports would be refused anyway (the service fences them out).
 */
import { ApiError, type Client } from './client';
import { CliError, EXIT } from './errors';

interface LeaseView {
  lease_id: string;
  fence: number;
  expires_at: string;
  ttl_s: number;
}

/** What `bldst run` and `pipeline run` need of a lease, whether they took it or inherited it. */
export interface HeldLease {
  readonly leaseId: string;
  /** Headers that make a state report count under this lease. */
  readonly headers: Record<string, string>;
  /** Why the lease was lost, if it was. */
  readonly lost: string | undefined;
  whenLost(handler: (reason: string) => void): void;
  release(): Promise<void>;
}

/**
 * What an outer `bldst run` hands to its child (and so to every `bldst` inside it): the build, the
 * lease it holds and the worker id. An inner command working on the same build reports under that
 * lease instead of taking its own (which the service would refuse with 409 lease_held).
 */
export interface HandedDown {
  buildId?: string;
  leaseId?: string;
  workerId?: string;
}

export const handedDown = (env: NodeJS.ProcessEnv = process.env): HandedDown => ({
  buildId: env.BLDST_BUILD_ID || undefined,
  leaseId: env.BLDST_LEASE_ID || undefined,
  workerId: env.BLDST_WORKER_ID || undefined,
});

/** The X-Lease-Id header of the lease handed down for this build, if any. */
export function inheritedLeaseHeaders(buildId: string): Record<string, string> {
  const h = handedDown();
  return h.leaseId && h.buildId === buildId ? { 'x-lease-id': h.leaseId } : {};
}

/** A lease an outer `bldst run` holds and renews: used as is, never renewed or released here. */
export class InheritedLease implements HeldLease {
  readonly lost = undefined;
  constructor(readonly leaseId: string) {}
  get headers(): Record<string, string> {
    return { 'x-lease-id': this.leaseId };
  }
  whenLost(): void {}
  async release(): Promise<void> {}
}

/** The handed-down lease when it is for this build, else a new one taken (and later released) here. */
export async function leaseFor(
  client: Client,
  buildId: string,
  workerId: string,
  ttlSeconds: number,
  log: (line: string) => void,
): Promise<HeldLease> {
  const h = handedDown();
  if (h.leaseId && h.buildId === buildId) {
    log(`reporting under lease ${h.leaseId} held by the outer bldst run`);
    return new InheritedLease(h.leaseId);
  }
  return WorkerLease.take(client, buildId, workerId, ttlSeconds, log);
}

export class WorkerLease implements HeldLease {
  private timer: NodeJS.Timeout | undefined;
  private lostReason: string | undefined;
  private onLost: (reason: string) => void = () => undefined;

  private constructor(
    private readonly client: Client,
    private readonly path: string,
    readonly lease: LeaseView,
    private readonly log: (line: string) => void,
  ) {}

  static async take(
    client: Client,
    buildId: string,
    workerId: string,
    ttlSeconds: number,
    log: (line: string) => void,
  ): Promise<WorkerLease> {
    const path = `/builds/${encodeURIComponent(buildId)}/lease`;
    let lease: LeaseView;
    try {
      lease = await client.post<LeaseView>(path, { worker_id: workerId, ttl_s: ttlSeconds });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'lease_held') {
        const holder = (error.body.error?.details as { holder?: { worker_id?: string; expires_at?: string } })
          ?.holder;
        throw new CliError(
          `build ${buildId} is being worked on by ${holder?.worker_id ?? 'another worker'} (lease until ${holder?.expires_at ?? '?'}); not starting`,
          EXIT.conflict,
          'lease_held',
        );
      }
      throw error;
    }
    log(
      `lease ${lease.lease_id} taken (fence ${lease.fence}, ${lease.ttl_s} s, renewed every ${Math.ceil(lease.ttl_s / 3)} s)`,
    );
    const held = new WorkerLease(client, path, lease, log);
    held.timer = setInterval(() => void held.renew(), Math.max(1000, (lease.ttl_s * 1000) / 3));
    held.timer.unref();
    return held;
  }

  get leaseId(): string {
    return this.lease.lease_id;
  }

  get headers(): Record<string, string> {
    return { 'x-lease-id': this.lease.lease_id };
  }

  get lost(): string | undefined {
    return this.lostReason;
  }

  whenLost(handler: (reason: string) => void) {
    this.onLost = handler;
  }

  private async renew() {
    try {
      await this.client.request('PUT', this.path, {}, this.headers);
    } catch (error) {
      if (error instanceof ApiError && (error.code === 'lease_lost' || error.status === 404)) {
        clearInterval(this.timer);
        this.lostReason = error.message;
        this.log(`lease lost: ${error.message}`);
        this.onLost(error.message);
        return;
      }
      // A failed heartbeat is retried at the next interval; the lease outlives two misses.
      this.log(`lease renewal failed (will retry): ${(error as Error).message}`);
    }
  }

  async release() {
    clearInterval(this.timer);
    if (this.lostReason) return;
    try {
      await this.client.request('DELETE', this.path, undefined, this.headers);
    } catch (error) {
      this.log(`lease release failed (it expires by itself): ${(error as Error).message}`);
    }
  }
}

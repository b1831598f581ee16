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

export class WorkerLease {
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

  /** Headers that make a state report count under this lease. */
  get headers(): Record<string, string> {
    return { 'x-lease-id': this.lease.lease_id };
  }

  /** Why the lease was lost, if it was. */
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

/**
 * GET /status, the seeds' "status overview": version, uptime of this runtime, whether the table and
 * the artifact store answer, and builds by status from the dashboard's summary counters (a fixed
 * number of reads, whatever the number of builds). Unlike /ready it answers 200 when a store is
 * down and says which: it is for people, /ready is for probes.
 */
import { version } from '../../package.json';

/** When this runtime (Lambda execution environment, or `npm start`) loaded the service. */
const LOADED_AT = new Date();

export type Check = 'ok' | 'unavailable' | 'not_configured';

export interface StatusDeps {
  checkTable: () => Promise<void>;
  /** null when this runtime has no artifacts bucket configured. */
  checkArtifactStore: (() => Promise<void>) | null;
  buildCounts: () => Promise<{
    total: number;
    by_status: Record<string, number>;
    /** In-progress parents waiting on their fork's children (counted apart from by_status). */
    fanned_out: number;
    read_capacity_units: number;
  }>;
  clock?: () => Date;
  startedAt?: Date;
}

export async function serviceStatus(deps: StatusDeps) {
  const now = (deps.clock ?? (() => new Date()))();
  const startedAt = deps.startedAt ?? LOADED_AT;
  const verdict = (p: Promise<unknown>): Promise<Check> =>
    p.then(
      () => 'ok',
      () => 'unavailable',
    );
  const [table, artifactStore] = await Promise.all([
    verdict(deps.checkTable()),
    deps.checkArtifactStore ? verdict(deps.checkArtifactStore()) : Promise.resolve<Check>('not_configured'),
  ]);
  const counts = table === 'ok' ? await deps.buildCounts().catch(() => null) : null;
  return {
    status: table === 'ok' && artifactStore !== 'unavailable' && counts ? 'ok' : 'degraded',
    service: 'buildstate',
    version,
    time: now.toISOString(),
    started_at: startedAt.toISOString(),
    uptime_s: Math.max(0, Math.floor((now.getTime() - startedAt.getTime()) / 1000)),
    checks: { table, artifact_store: artifactStore },
    builds: counts
      ? { total: counts.total, by_status: counts.by_status, fanned_out: counts.fanned_out }
      : null,
    read_capacity_units: counts?.read_capacity_units ?? 0,
  };
}

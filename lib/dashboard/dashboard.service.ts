/**
 * The dashboard API: summary, durations and stuck attempts. Every answer is computed from
 * aggregate items, the durations partition and the active index, so its cost depends on the
 * number of shards, platforms × states and running builds, never on the number of builds.
 */
import { BUILD_STATUSES } from '../builds/build.model';
import { type LiveItem, lastSignOfLifeMs } from '../builds/live.item';
import type { CatalogSource, StateCatalog } from '../catalog/state-catalog';
import { formatMicros } from '../cost/money';
import { validationError } from '../errors';
import {
  AGGREGATE_SHARDS,
  avoidedCounter,
  avoidedKey,
  type CostGroup,
  costKey,
  DAY_COUNTERS,
  type DayCounter,
  dayKey,
  FANNED_OUT_BUCKET,
  parseCostCounter,
  summaryKey,
} from './aggregates';
import { Cost, type DashboardRepository } from './dashboard.repository';
import { histogramFromItem, percentile } from './histogram';
import { type StuckAttempt, type StuckPolicy, stuckAttempt, type Yardstick } from './stuck';

export const SUCCESS_WINDOW_DAYS = 7;
export const DEFAULT_ACTIVE_LIMIT = 50;
/** Work avoided is shown over these windows (days, today included). */
export const AVOIDED_WINDOWS_DAYS = [7, 30] as const;
/** GET /dashboard/costs: the default window, and the longest (at most 13 monthly items read). */
export const COSTS_DEFAULT_DAYS = 30;
export const COSTS_MAX_DAYS = 366;

export interface DashboardDeps {
  repo: DashboardRepository;
  catalogs: CatalogSource;
  policy: StuckPolicy & { overdueMinSamples: number };
  clock?: () => Date;
}

export interface DurationStats {
  platform_id: string;
  state_code: number;
  samples: number;
  mean_s: number;
  p50_s: number | null;
  p90_s: number | null;
  p95_s: number | null;
}

/** Durations by `platform#code`, with the lookups ETA and overdue detection need. */
export class Durations {
  private readonly byKey = new Map<string, DurationStats>();

  constructor(readonly items: DurationStats[]) {
    for (const d of items) this.byKey.set(`${d.platform_id}#${d.state_code}`, d);
  }

  get(platformId: string, code: number): DurationStats | undefined {
    return this.byKey.get(`${platformId}#${code}`);
  }
}

export class DashboardService {
  private readonly clock: () => Date;

  constructor(private readonly deps: DashboardDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async durations(platformId?: string) {
    const cost = new Cost();
    const durations = await this.loadDurations(cost, platformId);
    return { items: durations.items, read_capacity_units: cost.units };
  }

  /**
   * Costs summed by group and currency from the monthly cost items (aggregates.ts `costKey`): one
   * BatchGet of at most 13 items whatever the number of builds. `since` is a UTC day, today
   * included; amounts of different currencies are never added.
   */
  async costs(groupBy: CostGroup, since?: string) {
    const cost = new Cost();
    const now = this.clock();
    const today = now.toISOString().slice(0, 10);
    const first = since
      ? since.slice(0, 10)
      : new Date(now.getTime() - (COSTS_DEFAULT_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    const firstMs = Date.parse(`${first}T00:00:00Z`);
    if (Number.isNaN(firstMs) || new Date(firstMs).toISOString().slice(0, 10) !== first)
      throw validationError('since: not a valid date', { field: 'since', value: since });
    const oldest = new Date(now.getTime() - (COSTS_MAX_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    if (first > today || first < oldest)
      throw validationError(
        `since: must be a day from ${oldest} to ${today} (at most ${COSTS_MAX_DAYS} days)`,
        {
          field: 'since',
          value: since,
        },
      );
    const months: { pk: string; sk: string }[] = [];
    for (let m = first.slice(0, 7); m <= today.slice(0, 7); ) {
      months.push(costKey(`${m}-01`));
      const [y, mo] = m.split('-').map(Number) as [number, number];
      m = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
    }
    const items = await this.deps.repo.getItems(months, cost);
    const sums = new Map<
      string,
      { key: string; currency: string; total: number; failed: number; avoided: number }
    >();
    const totals = new Map<string, { currency: string; total: number; failed: number; avoided: number }>();
    for (const month of months) {
      const ym = month.pk.slice('AGG#COST#'.length);
      for (const [name, value] of Object.entries(items.get(month.pk) ?? {})) {
        const c = parseCostCounter(name);
        if (!c || c.group !== groupBy || typeof value !== 'number') continue;
        const day = `${ym}-${c.dd}`;
        if (day < first || day > today) continue;
        const id = `${c.currency}|${c.value}`;
        const entry = sums.get(id) ?? { key: c.value, currency: c.currency, total: 0, failed: 0, avoided: 0 };
        sums.set(id, entry);
        entry[c.measure] += value;
        const sum = totals.get(c.currency) ?? { currency: c.currency, total: 0, failed: 0, avoided: 0 };
        totals.set(c.currency, sum);
        // Every priced entry is counted under each group once: any one group's counters sum to the totals.
        sum[c.measure] += value;
      }
    }
    const money = <T extends { total: number; failed: number; avoided: number }>(s: T) => ({
      ...s,
      total: formatMicros(s.total),
      failed: formatMicros(s.failed),
      avoided: formatMicros(s.avoided),
    });
    const ordered = [...sums.values()].sort(
      (a, b) => a.currency.localeCompare(b.currency) || b.total - a.total || a.key.localeCompare(b.key),
    );
    return {
      group_by: groupBy,
      since: first,
      until: today,
      items: ordered.map(money),
      totals: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)).map(money),
      read_capacity_units: cost.units,
    };
  }

  async stuck() {
    const cost = new Cost();
    const items = await this.findStuck(cost);
    return {
      items,
      heartbeat_timeout_s: this.deps.policy.heartbeatTimeoutSeconds,
      read_capacity_units: cost.units,
    };
  }

  /** Stuck attempts among running builds (every page of the active index). */
  async findStuck(cost = new Cost()): Promise<(StuckAttempt & { state_name: string | null })[]> {
    const [active, durations] = await Promise.all([this.deps.repo.active(cost), this.loadDurations(cost)]);
    const nowMs = this.clock().getTime();
    const out: (StuckAttempt & { state_name: string | null })[] = [];
    for (const live of active) {
      const catalog = await this.deps.catalogs.forProject(live.project_id);
      const verdict = stuckAttempt(live, nowMs, this.deps.policy, this.yardstick(live, catalog, durations));
      if (verdict) out.push({ ...verdict, state_name: catalog.nameOf(verdict.state_code) });
    }
    return out;
  }

  /** Builds by status from the summary counters alone: a fixed number of item reads (GET /status). */
  async buildCounts() {
    const cost = new Cost();
    const keys = Array.from({ length: AGGREGATE_SHARDS }, (_, i) => summaryKey(i));
    const items = await this.deps.repo.getItems(keys, cost);
    const sum = (name: string) =>
      keys.reduce((n, key) => {
        const value = items.get(key.pk)?.[name];
        return n + (typeof value === 'number' ? value : 0);
      }, 0);
    const fannedOut = sum(`status:${FANNED_OUT_BUCKET}`);
    return {
      total: sum('builds_total'),
      by_status: withFannedOut(
        Object.fromEntries(BUILD_STATUSES.map((s) => [s, sum(`status:${s}`)])),
        fannedOut,
      ),
      fanned_out: fannedOut,
      read_capacity_units: cost.units,
    };
  }

  async summary(activeLimit = DEFAULT_ACTIVE_LIMIT) {
    const cost = new Cost();
    const now = this.clock();
    const days = Array.from({ length: SUCCESS_WINDOW_DAYS }, (_, i) =>
      new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10),
    );
    const shards = Array.from({ length: AGGREGATE_SHARDS }, (_, i) => i);
    const avoidedDays = Array.from({ length: Math.max(...AVOIDED_WINDOWS_DAYS) }, (_, i) =>
      new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10),
    );
    const keys = [
      ...shards.map(summaryKey),
      ...days.flatMap((d) => shards.map((s) => dayKey(d, s))),
      ...[...new Map(avoidedDays.map((d) => [avoidedKey(d).pk, avoidedKey(d)])).values()],
    ];
    const [items, durations, active] = await Promise.all([
      this.deps.repo.getItems(keys, cost),
      this.loadDurations(cost),
      this.deps.repo.active(cost, activeLimit, { withoutFannedOut: true }),
    ]);

    const counters = new Map<string, number>();
    for (const key of shards.map(summaryKey)) {
      for (const [name, value] of Object.entries(items.get(key.pk) ?? {}))
        if (typeof value === 'number') counters.set(name, (counters.get(name) ?? 0) + value);
    }
    const byStatus = Object.fromEntries(BUILD_STATUSES.map((s) => [s, counters.get(`status:${s}`) ?? 0]));
    const byPlatform: Record<
      string,
      { total: number; by_status: Record<string, number>; fanned_out: number }
    > = {};
    const failures: { state_code: number; failed_attempts: number }[] = [];
    for (const [name, value] of counters) {
      const platform = /^platform:(.+):([a-z_]+)$/.exec(name);
      if (platform && value !== 0) {
        const id = platform[1]!;
        byPlatform[id] ??= {
          total: 0,
          by_status: Object.fromEntries(BUILD_STATUSES.map((s) => [s, 0])),
          fanned_out: 0,
        };
        const entry = byPlatform[id];
        entry.total += value;
        if (platform[2] === FANNED_OUT_BUCKET) entry.fanned_out = value;
        else entry.by_status[platform[2]!] = value;
      }
      const failed = /^failed_attempts:(\d+)$/.exec(name);
      if (failed && value > 0) failures.push({ state_code: Number(failed[1]), failed_attempts: value });
    }
    // Fanned-out parents are in_progress builds: by_status counts them (it sums to total), and
    // fanned_out says how many of those are parents waiting on their children.
    const fannedOut = counters.get(`status:${FANNED_OUT_BUCKET}`) ?? 0;
    withFannedOut(byStatus, fannedOut);
    for (const entry of Object.values(byPlatform)) withFannedOut(entry.by_status, entry.fanned_out);
    failures.sort((a, b) => b.failed_attempts - a.failed_attempts || a.state_code - b.state_code);

    const window = Object.fromEntries(DAY_COUNTERS.map((c) => [c, 0])) as Record<DayCounter, number>;
    for (const day of days)
      for (const shard of shards) {
        const item = items.get(dayKey(day, shard).pk) ?? {};
        for (const c of DAY_COUNTERS) window[c] += typeof item[c] === 'number' ? (item[c] as number) : 0;
      }
    const ratio = (good: number, all: number) =>
      all === 0 ? null : Math.round((good / all) * 10_000) / 10_000;
    const defaultCatalog = await this.deps.catalogs.forProject('default');

    const activeItems = [];
    for (const live of active) {
      const catalog = await this.deps.catalogs.forProject(live.project_id);
      activeItems.push(this.activeView(live, catalog, durations, now.getTime()));
    }

    const workAvoided = (windowDays: number) => {
      const byPlatform: Record<string, number> = {};
      let total = 0;
      for (const day of avoidedDays.slice(0, windowDays)) {
        const prefix = avoidedCounter(day, '');
        for (const [name, value] of Object.entries(items.get(avoidedKey(day).pk) ?? {})) {
          if (typeof value !== 'number' || !name.startsWith(prefix)) continue;
          const counter = name.slice(prefix.length);
          if (counter === 'total') total += value;
          else if (counter.startsWith('platform:')) {
            const id = counter.slice('platform:'.length);
            byPlatform[id] = (byPlatform[id] ?? 0) + value;
          }
        }
      }
      return { window_days: windowDays, total_s: total, by_platform: byPlatform };
    };

    return {
      generated_at: now.toISOString(),
      builds: {
        total: counters.get('builds_total') ?? 0,
        by_status: byStatus,
        fanned_out: fannedOut,
        by_platform: byPlatform,
      },
      active: { count: (byStatus.in_progress ?? 0) + (byStatus.failed ?? 0) - fannedOut, items: activeItems },
      failures_by_state: failures.map((f) => ({ ...f, state_name: defaultCatalog.nameOf(f.state_code) })),
      success_rate_7d: {
        window_days: SUCCESS_WINDOW_DAYS,
        ...window,
        build_success_rate: ratio(
          window.builds_completed,
          window.builds_completed + window.builds_cancelled + window.builds_blocked,
        ),
        attempt_success_rate: ratio(
          window.attempts_completed,
          window.attempts_completed + window.attempts_failed,
        ),
      },
      work_avoided: AVOIDED_WINDOWS_DAYS.map(workAvoided),
      read_capacity_units: cost.units,
    };
  }

  /** A running build with its progress, ETA (sum of historical p50s of what remains) and stuck kinds. */
  private activeView(live: LiveItem, catalog: StateCatalog, durations: Durations, nowMs: number) {
    const estimate = (code: number) =>
      durations.get(live.platform_id, code)?.p50_s ?? catalog.expectedDurationOf(code) ?? null;
    // What remains: the current state unless it completed, then every milestone after it.
    const current = live.current_state;
    const remaining = live.state_status === 'completed' ? [] : [current];
    remaining.push(...catalog.codesAfter(current));
    const unknown: number[] = [];
    let eta = 0;
    for (const code of remaining) {
      let e = estimate(code);
      if (e === null) {
        unknown.push(code);
        continue;
      }
      if (code === current && live.state_status === 'in_progress' && live.attempt_started_at)
        e = Math.max(0, e - Math.floor((nowMs - Date.parse(live.attempt_started_at)) / 1000));
      eta += e;
    }
    // Sum of the states with an estimate; null when none has one (eta_unknown_states says which lack one).
    const known = remaining.length > unknown.length;
    const stuck = stuckAttempt(live, nowMs, this.deps.policy, this.yardstick(live, catalog, durations));
    return {
      build_id: live.build_id,
      project_id: live.project_id,
      platform_id: live.platform_id,
      image_type_id: live.image_type_id,
      status: live.status,
      current_state: current,
      state_name: catalog.nameOf(current),
      state_status: live.state_status,
      attempt: live.attempt,
      progress_percent: live.last_completed_state ?? 0,
      started_at: live.started_at,
      attempt_started_at: live.attempt_started_at,
      last_heartbeat_at: lastSignOfLifeMs(live) ? new Date(lastSignOfLifeMs(live)).toISOString() : null,
      lease_worker_id: live.lease_worker_id ?? null,
      eta_s: known ? eta : null,
      eta_at: known ? new Date(nowMs + eta * 1000).toISOString() : null,
      eta_unknown_states: unknown,
      stuck: stuck?.kinds ?? [],
    };
  }

  private yardstick(live: LiveItem, catalog: StateCatalog, durations: Durations): Yardstick | null {
    const stats = durations.get(live.platform_id, live.current_state);
    if (stats && stats.samples >= this.deps.policy.overdueMinSamples && stats.p95_s !== null)
      return { seconds: stats.p95_s, source: 'p95' };
    const expected = catalog.expectedDurationOf(live.current_state);
    return expected ? { seconds: expected, source: 'expected_duration_s' } : null;
  }

  private async loadDurations(cost: Cost, platformId?: string): Promise<Durations> {
    const items = await this.deps.repo.durations(cost, platformId);
    return new Durations(
      items.map((item) => {
        const histogram = histogramFromItem(item);
        const samples = Number(item.samples ?? 0);
        return {
          platform_id: String(item.platform_id),
          state_code: Number(item.state_code),
          samples,
          mean_s: samples ? Math.round(Number(item.sum_s ?? 0) / samples) : 0,
          p50_s: percentile(histogram, 0.5),
          p90_s: percentile(histogram, 0.9),
          p95_s: percentile(histogram, 0.95),
        };
      }),
    );
  }
}

/**
 * The summary counters keep a waiting fork parent under `fanned_out` instead of its status
 * (aggregates.ts, summaryBucket), and such a parent is always in_progress: `by_status` adds it
 * back there, so it sums to `total` like every other count of builds by status.
 */
function withFannedOut(byStatus: Record<string, number>, fannedOut: number): Record<string, number> {
  byStatus.in_progress = (byStatus.in_progress ?? 0) + fannedOut;
  return byStatus;
}

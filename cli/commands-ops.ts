/**
 * State catalogs, leases and heartbeats by hand, and the dashboard's numbers in a terminal.
 * `lease` and `heartbeat` take the build (and lease) an outer `bldst run` handed down.
 */
import { readFileSync } from 'node:fs';
import type { BuildView } from '../lib/builds/build.view';
import { buildArg, type Command, type Ctx, compact, defineCommand, int, one, seg, show } from './command';
import { CliError, EXIT, usage } from './errors';
import { handedDown } from './lease';
import { clipFlag, LIMITS } from './limits';
import {
  age,
  type Column,
  col,
  duration,
  paint,
  paintStatus,
  printJson,
  printRecord,
  printTable,
  progressBar,
  type Style,
  statusPaint,
} from './output';
import { defaultWorkerId } from './runner';
import { platformsFor, targetLabel } from './target';

type Row = Record<string, unknown>;

const leaseIdOf = (v: string | undefined, buildId: string) => {
  const h = handedDown();
  const id = v ?? (h.buildId === buildId ? h.leaseId : undefined);
  if (!id) throw usage('--lease-id is required (or $BLDST_LEASE_ID from bldst run)');
  return id;
};

const leasePath = (id: string) => `/builds/${seg(id)}/lease`;

export const OPS_COMMANDS: Command[] = [
  defineCommand({
    path: ['state-codes', 'get'],
    args: '<project>',
    summary: "Show a project's state catalog (codes, names, expected durations, attempt limits)",
    examples: ['bldst state-codes get default', 'bldst state-codes get default -o json > catalog.json'],
    async run(ctx, _v, p) {
      const catalog = await ctx
        .client()
        .get<{ state_codes: Row[]; version: number }>(`/projects/${seg(one(p, 'project id'))}/state-codes`);
      if (ctx.output === 'json') printJson(catalog);
      else
        printTable(
          catalog.state_codes,
          [
            col('code', 'CODE', { right: true }),
            col('name', 'NAME'),
            col('category', 'CATEGORY'),
            col('expected_duration_s', 'EXPECTED S', { right: true }),
            col('max_attempts', 'MAX ATTEMPTS', { right: true }),
            col('description', 'DESCRIPTION'),
          ],
          ctx.style,
          { wide: ctx.wide },
        );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['state-codes', 'set'],
    args: '<project>',
    summary: "Replace a project's state catalog from a YAML or JSON file (- for stdin)",
    options: {
      file: {
        type: 'string',
        short: 'f',
        description: 'catalog.yaml or catalog.json: a list, or {state_codes: [...]}',
      },
      'if-match': { type: 'string', description: 'apply only if the catalog is at this version' },
    },
    examples: ['bldst state-codes set default -f catalog.json'],
    async run(ctx, v, p) {
      const project = one(p, 'project id');
      if (!v.file) throw usage('-f/--file is required');
      let text: string;
      try {
        text = readFileSync(v.file === '-' ? 0 : v.file, 'utf8');
      } catch (error) {
        throw new CliError(`cannot read ${v.file}: ${(error as Error).message}`, EXIT.usage, 'usage');
      }
      let data: unknown;
      try {
        // YAML is a superset of JSON: one parser reads both (loaded only here: it is large).
        const { parseYaml } = await import('./yaml');
        data = parseYaml(text);
      } catch (error) {
        throw new CliError(`${v.file} is not YAML or JSON: ${(error as Error).message}`, EXIT.usage, 'usage');
      }
      // What `state-codes get` wrote may be edited and set again: the API takes only the codes
      // (project_id, version and updated_* are the service's, and its bodies are strict).
      if (data && typeof data === 'object' && !Array.isArray(data) && 'state_codes' in data)
        data = { state_codes: (data as { state_codes: unknown }).state_codes };
      const ifMatch = int(v['if-match'], '--if-match');
      const res = await ctx
        .client()
        .request<Row>(
          'PUT',
          `/projects/${seg(project)}/state-codes`,
          data,
          ifMatch === undefined ? {} : { 'if-match': `"${ifMatch}"` },
        );
      if (ctx.output === 'json') printJson(res);
      else if (!ctx.quiet)
        process.stdout.write(
          `${project}: catalog version ${res.version}, ${(res.state_codes as Row[]).length} state codes\n`,
        );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['lease', 'take'],
    args: '[build-id]',
    summary:
      'Take the lease on a build (exit 3 while another worker holds a live one); prints the lease id with -q',
    options: {
      worker: { type: 'string', description: 'worker id (default: $BLDST_WORKER_ID or host:pid)' },
      ttl: { type: 'string', description: 'seconds it lasts without a renewal (5-3600, default 120)' },
    },
    examples: ['LEASE_ID=$(bldst lease take $BUILD_ID --worker packer-7 -q)'],
    async run(ctx, v, p) {
      const id = buildArg(p);
      const lease = await ctx
        .client()
        .post<Row>(
          leasePath(id),
          compact({ worker_id: v.worker ?? defaultWorkerId(), ttl_s: int(v.ttl, '--ttl') }),
        );
      show(ctx, lease, lease.lease_id);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['lease', 'renew'],
    args: '[build-id]',
    summary: "Renew a lease (the holder's heartbeat); exit 3 if it was taken over",
    options: {
      'lease-id': { type: 'string', description: 'the lease (default: $BLDST_LEASE_ID)' },
      ttl: { type: 'string', description: 'new TTL in seconds (default: unchanged)' },
    },
    examples: ['bldst lease renew $BUILD_ID --lease-id $LEASE_ID'],
    async run(ctx, v, p) {
      const id = buildArg(p);
      const lease = await ctx
        .client()
        .request<Row>(
          'PUT',
          leasePath(id),
          compact({ lease_id: leaseIdOf(v['lease-id'], id), ttl_s: int(v.ttl, '--ttl') }),
        );
      show(ctx, lease, lease.expires_at);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['lease', 'release'],
    args: '[build-id]',
    summary: 'Release a lease (releasing one that is already gone succeeds)',
    options: { 'lease-id': { type: 'string', description: 'the lease (default: $BLDST_LEASE_ID)' } },
    examples: ['bldst lease release $BUILD_ID --lease-id $LEASE_ID'],
    async run(ctx, v, p) {
      const id = buildArg(p);
      const res = await ctx
        .client()
        .request<Row>('DELETE', leasePath(id), { lease_id: leaseIdOf(v['lease-id'], id) });
      show(ctx, res);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['lease', 'show'],
    args: '[build-id]',
    summary: 'Who holds the lease on a build, and the last heartbeat',
    examples: ['bldst lease show $BUILD_ID'],
    async run(ctx, _v, p) {
      const res = await ctx.client().get<Row & { lease: Row | null }>(leasePath(buildArg(p)));
      if (ctx.output === 'json') printJson(res);
      else {
        const { lease, ...rest } = res;
        printRecord(
          {
            ...rest,
            holder: lease ? `${lease.worker_id} (fence ${lease.fence}, until ${lease.expires_at})` : 'nobody',
          },
          ctx.style,
        );
      }
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['heartbeat'],
    args: '[build-id]',
    summary: "Record a heartbeat without a lease (refused while another worker's lease is live)",
    options: {
      worker: { type: 'string', description: 'worker id (default: $BLDST_WORKER_ID or host:pid)' },
      message: { type: 'string', description: 'what the worker is doing' },
    },
    examples: ['bldst heartbeat $BUILD_ID --worker packer-7 --message "uploading image"'],
    async run(ctx, v, p) {
      const res = await ctx.client().post<Row>(
        `/builds/${seg(buildArg(p))}/heartbeat`,
        compact({
          worker_id: v.worker ?? defaultWorkerId(),
          message: clipFlag(v.message, LIMITS.message, '--message'),
        }),
      );
      show(ctx, res, res.last_heartbeat_at);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['dashboard', 'summary'],
    summary:
      'Builds by status, the active builds with progress and ETA, failures by state, 7-day success rate',
    options: { 'active-limit': { type: 'string', description: 'active builds to list (1-200, default 50)' } },
    examples: ['bldst dashboard summary'],
    async run(ctx, v) {
      const limit = int(v['active-limit'], '--active-limit');
      const s = await ctx.client().get<Summary>(`/dashboard/summary${limit ? `?active_limit=${limit}` : ''}`);
      if (ctx.output === 'json') {
        printJson(s);
        return EXIT.ok;
      }
      process.stdout.write(`${summaryLines(ctx.style, s).join('\n')}\n`);
      const labelled = await withTargets(ctx, s.active.items);
      printTable(labelled.rows, activeColumns(labelled.labels), ctx.style, {
        wide: ctx.wide,
        empty: 'no active builds',
      });
      if (s.failures_by_state.length) {
        process.stdout.write(`\n${paint(ctx.style, 'bold', 'failed attempts by state')}\n`);
        printTable(
          s.failures_by_state,
          [
            col('state_code', 'STATE', { right: true }),
            col('state_name', 'NAME'),
            col('failed_attempts', 'FAILED', { right: true, paint: () => 'red' }),
          ],
          ctx.style,
          { wide: ctx.wide },
        );
      }
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['dashboard', 'durations'],
    summary: 'p50/p90/p95 duration of each state per platform',
    options: { 'platform-id': { type: 'string', description: 'only this platform' } },
    examples: ['bldst dashboard durations --platform-id aws'],
    async run(ctx, v) {
      const res = await ctx
        .client()
        .get<{ items: Row[] }>(
          `/dashboard/durations${v['platform-id'] ? `?platform_id=${seg(v['platform-id'])}` : ''}`,
        );
      if (ctx.output === 'json') printJson(res);
      else {
        const secs = (k: string) => (r: Row) => (typeof r[k] === 'number' ? duration(r[k] as number) : '-');
        printTable(
          res.items,
          [
            col('platform_id', 'PLATFORM'),
            col('state_code', 'STATE', { right: true }),
            col('samples', 'SAMPLES', { right: true }),
            { header: 'MEAN', value: secs('mean_s'), right: true },
            { header: 'P50', value: secs('p50_s'), right: true },
            { header: 'P90', value: secs('p90_s'), right: true },
            { header: 'P95', value: secs('p95_s'), right: true },
          ],
          ctx.style,
          { wide: ctx.wide, empty: 'no completed attempts with durations yet' },
        );
      }
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['dashboard', 'costs'],
    summary: 'What priced attempts cost, by platform, project, image type or state; per currency',
    options: {
      'group-by': { type: 'string', description: 'platform (default), project, image_type or state' },
      since: {
        type: 'string',
        description: 'first UTC day counted, YYYY-MM-DD (default: 30 days ago; at most 366)',
      },
    },
    examples: ['bldst dashboard costs', 'bldst dashboard costs --group-by state --since 2026-11-01'],
    async run(ctx, v) {
      const query = new URLSearchParams();
      if (typeof v['group-by'] === 'string') query.set('group_by', v['group-by']);
      if (typeof v.since === 'string') query.set('since', v.since);
      const res = await ctx
        .client()
        .get<{ group_by: string; since: string; until: string; items: Row[]; totals: Row[] }>(
          `/dashboard/costs${query.size ? `?${query}` : ''}`,
        );
      if (ctx.output === 'json') {
        printJson(res);
        return EXIT.ok;
      }
      const money = [
        col('currency', 'CUR'),
        col('total', 'TOTAL', { right: true }),
        col('failed', 'FAILED', { right: true, paint: () => 'red' }),
        col('avoided', 'SAVED BY RESUMING', { right: true }),
      ];
      printTable(res.items, [col('key', res.group_by.toUpperCase(), { whole: true }), ...money], ctx.style, {
        wide: ctx.wide,
        empty: `no priced attempts from ${res.since} to ${res.until} (set a platform's --hourly-cost)`,
      });
      if (res.totals.length) {
        process.stdout.write(`\n${paint(ctx.style, 'bold', `totals ${res.since} to ${res.until}`)}\n`);
        printTable(res.totals, money, ctx.style, { wide: ctx.wide });
      }
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['dashboard', 'stuck'],
    summary: 'Running attempts that are silent (no heartbeat) or overdue',
    examples: ['bldst dashboard stuck'],
    async run(ctx) {
      const res = await ctx.client().get<{ items: Row[]; heartbeat_timeout_s: number }>('/dashboard/stuck');
      if (ctx.output === 'json') printJson(res);
      else
        printTable(
          res.items,
          [
            col('build_id', 'BUILD', { whole: true }),
            col('platform_id', 'PLATFORM', { distinct: true }),
            col('state_code', 'STATE', { right: true }),
            col('attempt', 'ATTEMPT', { right: true }),
            { header: 'WHY', value: (r) => (r.kinds as string[]).join(','), paint: () => 'red' },
            { header: 'RUNNING', value: (r) => duration(r.running_s as number), right: true },
            { header: 'SILENT', value: (r) => duration(r.silent_s as number), right: true },
            { header: 'WORKER', value: (r) => r.lease_worker_id ?? r.last_worker_id, distinct: true },
          ],
          ctx.style,
          {
            wide: ctx.wide,
            empty: `nothing stuck (silent means no heartbeat for ${res.heartbeat_timeout_s} s)`,
          },
        );
      return EXIT.ok;
    },
  }),
];

export interface Summary {
  builds: { total: number; by_status: Record<string, number>; fanned_out?: number };
  active: { count: number; items: Row[] };
  failures_by_state: Row[];
  success_rate_7d: { build_success_rate: number | null; attempt_success_rate: number | null };
  work_avoided?: { window_days: number; total_s: number; by_platform?: Record<string, number> }[];
}

/**
 * The summary's head: counts that add up to the total shown (fork parents waiting on their
 * children are their own line item, and anything the server counted but did not break down is
 * said as such), the 7-day success rates, and the work resuming saved.
 */
export function summaryLines(style: Style, s: Summary): string[] {
  const parts = Object.entries(s.builds.by_status)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => ({ n, text: paintStatus(style, status, `${n} ${status.replace('_', ' ')}`) }));
  if (s.builds.fanned_out) parts.push({ n: s.builds.fanned_out, text: `${s.builds.fanned_out} fanned out` });
  const counted = parts.reduce((n, p) => n + p.n, 0);
  const total = Math.max(s.builds.total, counted);
  if (total > counted) parts.push({ n: total - counted, text: `${total - counted} not broken down` });
  const rate = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  const avoided = (s.work_avoided ?? [])
    .slice()
    .sort((a, b) => a.window_days - b.window_days)
    .map((w) => `${duration(w.total_s)} in ${w.window_days} days`);
  return [
    `${paint(style, 'bold', `${total} builds`)}${parts.length ? `: ${parts.map((p) => p.text).join(', ')}` : ''}`,
    `last 7 days: build success ${rate(s.success_rate_7d.build_success_rate)}, attempt success ${rate(s.success_rate_7d.attempt_success_rate)}`,
    ...(avoided.length ? [`work avoided (completed work not re-run on resume): ${avoided.join(', ')}`] : []),
    '',
    paint(style, 'bold', `${s.active.count} active`),
    '',
  ];
}

/**
 * The active builds with each one's target: the summary's items carry no metadata, so each build
 * is read (8 at a time) for the label its fork gave it; one that cannot be read keeps its row.
 */
async function withTargets(ctx: Ctx, items: Row[]): Promise<{ rows: Row[]; labels: boolean }> {
  const views: (BuildView | undefined)[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const n = next++;
      try {
        views[n] = await ctx.client().get<BuildView>(`/builds/${seg(String(items[n]!.build_id))}`);
      } catch {
        views[n] = undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker));
  const known = views.filter((v): v is BuildView => v !== undefined);
  const platforms = await platformsFor(ctx.client(), known);
  const rows = items.map((r, n) => ({ ...r, target: views[n] ? targetLabel(views[n]!, platforms) : null }));
  return { rows, labels: rows.some((r) => r.target !== null) };
}

const activeColumns = (labels: boolean): Column<Row>[] => [
  col('build_id', 'BUILD', { min: 10, whole: true }),
  col('platform_id', 'PLATFORM', { distinct: true }),
  ...(labels ? [col<Row>('target', 'TARGET', { whole: true })] : []),
  { header: 'STATE', value: (r) => `${r.current_state} ${r.state_name ?? ''}`.trim(), min: 8 },
  col('status', 'STATUS', { paint: (r) => statusPaint(r.status as string), min: 11 }),
  col('attempt', 'ATTEMPT', { right: true, drop: 1 }),
  { header: 'PROGRESS', value: (r) => progressBar(r.progress_percent as number, 10), min: 16, drop: 3 },
  { header: 'IN STATE', value: (r) => age(r.attempt_started_at as string), right: true, drop: 0.5 },
  {
    header: 'ETA',
    // A failed or blocked build has no estimate: it will not finish without someone acting.
    value: (r) =>
      typeof r.eta_s === 'number' && !['failed', 'blocked'].includes(r.status as string)
        ? duration(r.eta_s)
        : '-',
    right: true,
    drop: 2,
  },
  col('lease_worker_id', 'WORKER', { distinct: true, drop: 2.5 }),
];

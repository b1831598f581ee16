/** `bldst watch`: live progress of one build, of a fork parent and its children, or of all active builds. */
import type { BuildView } from '../lib/builds/build.view';
import type { Client } from './client';
import { allPages, type Command, type Ctx, defineCommand, int, seg } from './command';
import { EXIT } from './errors';
import {
  age,
  type Column,
  col,
  formatTable,
  paint,
  paintStatus,
  progressBar,
  type Style,
  sanitize,
  statusPaint,
  wrap,
} from './output';
import { anyLabel, type Platform, platformsFor, targetColumn, targetLabel } from './target';

/**
 * One build: progress, attempt, worker, time in the state, the last error; when blocked, what to
 * run. Every field another party wrote is sanitized; lines wrap at word boundaries.
 */
function watchOne(style: Style, b: BuildView, platforms: Map<string, Platform>): string {
  const label = targetLabel(b, platforms);
  const lines = [
    [
      paint(style, 'bold', sanitize(b.id)),
      label ? sanitize(label) : '',
      progressBar(b.progress_percent),
      `state ${b.current_state}${b.state_name ? ` ${sanitize(b.state_name)}` : ''}`,
      paintStatus(style, b.status),
      b.attempt ? `attempt ${b.attempt} of ${b.max_attempts}` : '',
      b.last_worker_id ? `on ${sanitize(b.last_worker_id)}` : '',
      ['in_progress', 'failed', 'blocked'].includes(b.status) ? `for ${age(b.updated_at)}` : '',
    ]
      .filter(Boolean)
      .join('  '),
  ];
  if (b.last_error && b.status !== 'completed')
    lines.push(`  last error: ${sanitize(b.last_error.split('\n')[0]!)}`);
  if (b.status === 'blocked') {
    lines.push(
      `  ${paintStatus(style, 'blocked', 'blocked')}: state ${b.current_state} used all ${b.max_attempts} attempts`,
      `  after fixing the cause: bldst build unblock ${sanitize(b.id)} --reason "what was fixed"`,
    );
  }
  return `${lines.map((l) => wrap(l, style.width, '    ')).join('\n')}\n`;
}

const watchColumns = (platforms: Map<string, Platform>, labels: boolean): Column<BuildView>[] => [
  col('id', 'ID', { min: 10 }),
  col('platform_id', 'PLATFORM', { distinct: true }),
  ...(labels ? [targetColumn<BuildView>(platforms)] : []),
  { header: 'STATE', value: (b) => `${b.current_state} ${b.state_name ?? ''}`.trim(), min: 8 },
  { header: 'STATUS', value: (b) => b.status, paint: (b) => statusPaint(b.status), min: 11 },
  {
    header: 'ATTEMPT',
    value: (b) => (b.attempt ? `${b.attempt}/${b.max_attempts}` : '-'),
    right: true,
    drop: 1,
  },
  { header: 'PROGRESS', value: (b) => progressBar(b.progress_percent, 10), min: 16, drop: 3 },
  { header: 'IN STATE', value: (b) => age(b.updated_at), right: true, drop: 0.5 },
  { header: 'WORKER', value: (b) => b.last_worker_id, distinct: true, drop: 2 },
  {
    header: 'LAST ERROR',
    value: (b) => (b.status === 'in_progress' ? null : b.last_error?.split('\n')[0]),
    min: 10,
    drop: 0.25,
  },
];

/** All active builds: a header with the count, then one row each. */
function watchAll(ctx: Ctx, builds: BuildView[], platforms: Map<string, Platform>): string {
  const table = formatTable(builds, watchColumns(platforms, anyLabel(builds, platforms)), ctx.style, {
    wide: ctx.wide,
    empty: 'no active builds',
  });
  const counts = ['in_progress', 'failed', 'blocked', 'pending']
    .map((s) => [s, builds.filter((b) => b.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => paintStatus(ctx.style, s, `${n} ${s.replace('_', ' ')}`));
  const header = `${paint(ctx.style, 'bold', `${builds.length} active build${builds.length === 1 ? '' : 's'}`)}${counts.length ? ` (${counts.join(', ')})` : ''}`;
  return `${header}\n${table}`;
}

/** `-o json` asked for: JSON lines rather than a screen or a log of text lines. */
const jsonLines = (ctx: Ctx) => ctx.outputAsked && ctx.output === 'json';

async function watchOnce(client: Client, id: string | undefined): Promise<BuildView[]> {
  if (id) return [await client.get<BuildView>(`/builds/${seg(id)}`)];
  const active: BuildView[] = [];
  for (const status of ['in_progress', 'failed', 'pending', 'blocked']) {
    active.push(...(await client.get<{ items: BuildView[] }>(`/builds?status=${status}&limit=100`)).items);
  }
  return active;
}

/** A fork parent: its own line, one per child, the roll-up; until every child completed, was cancelled or blocked. */
async function watchFamily(ctx: Ctx, id: string, interval: number, tty: boolean): Promise<number> {
  const { changedLines, familyLines, familyOutcome, renderFamily } = await import('./watch-family');
  const seen = new Map<string, string>();
  let platforms: Map<string, Platform> | undefined;
  let last = '';
  for (;;) {
    const parent = await ctx.client().get<BuildView>(`/builds/${seg(id)}`);
    const children = await allPages<BuildView>(ctx.client(), `/builds/${seg(id)}/children`);
    // Oldest first: the order the fork named them (the API lists newest first).
    children.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    platforms ??= await platformsFor(ctx.client(), children);
    if (jsonLines(ctx)) {
      const line = `${JSON.stringify({ build: parent, children })}\n`;
      if (line !== last) process.stdout.write(line);
      last = line;
    } else if (tty)
      process.stdout.write(`\x1b[2J\x1b[H${renderFamily(ctx.style, parent, children, platforms)}`);
    else process.stdout.write(changedLines(seen, familyLines(ctx.style, parent, children, platforms)));
    const outcome = familyOutcome(children);
    if (outcome.done) return outcome.code;
    await new Promise((r) => setTimeout(r, interval));
  }
}

export const WATCH_COMMANDS: Command[] = [
  defineCommand({
    path: ['watch'],
    args: '[build-id]',
    summary:
      'Live progress of one build (of a fork parent: its line, one bar per child and the roll-up), or of all active builds, until done or Ctrl-C',
    options: { interval: { type: 'string', description: 'seconds between refreshes (default 2)' } },
    examples: ['bldst watch $BUILD_ID', 'bldst watch $BASE_ID   # a fork parent: every child', 'bldst watch'],
    async run(ctx, v, p) {
      const id = p[0];
      const interval = (int(v.interval, '--interval') ?? 2) * 1000;
      const tty = Boolean(process.stdout.isTTY);
      if (id && (await allPages(ctx.client(), `/builds/${seg(id)}/children`, 1)).length > 0)
        return watchFamily(ctx, id, interval, tty);
      let last = '';
      let platforms: Map<string, Platform> | undefined;
      for (;;) {
        const builds = await watchOnce(ctx.client(), id);
        platforms ??= await platformsFor(ctx.client(), builds);
        // -o json: one JSON line (the build, or the array of active builds) each time it changes.
        const text = jsonLines(ctx)
          ? `${JSON.stringify(id ? builds[0] : builds)}\n`
          : id
            ? watchOne(ctx.style, builds[0]!, platforms)
            : watchAll(ctx, builds, platforms);
        // On a terminal the screen is redrawn; in a pipe (a CI log) a line is written only when it changes.
        if (tty && !jsonLines(ctx)) process.stdout.write(`\x1b[2J\x1b[H${text}`);
        else if (text !== last) process.stdout.write(text);
        last = text;
        if (id && ['completed', 'cancelled', 'blocked'].includes(builds[0]!.status))
          return builds[0]!.status === 'completed' ? EXIT.ok : EXIT.conflict;
        if (!tty && !id) return EXIT.ok;
        await new Promise((r) => setTimeout(r, interval));
      }
    },
  }),
];

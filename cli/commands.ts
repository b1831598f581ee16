/**
 * Every bldst command: one entry per API operation (flags named as the API's fields), plus run,
 * pipeline run, watch and completion. --help texts and shell completion are generated from here.
 */
import { STORAGE_TYPES } from '../lib/artifacts/artifact.model';
import { BUILD_STATUSES } from '../lib/builds/build.model';
import type { BuildView } from '../lib/builds/build.view';
import { ApiError, Client } from './client';
import {
  allPages,
  buildArg,
  type Command,
  type Ctx,
  compact,
  int,
  json,
  one,
  seg,
  show,
  str,
  withoutUrls,
} from './command';
import { FAN_OUT_COMMANDS } from './commands-fan-out';
import { IDENTITY_COMMANDS } from './commands-identity';
import { LINEAGE_COMMANDS } from './commands-lineage';
import { OPS_COMMANDS } from './commands-ops';
import { PROVENANCE_COMMANDS } from './commands-provenance';
import { REFERENCE_COMMANDS } from './commands-reference';
import { configPath, readConfigFile, resolveConfig, writeConfigFile } from './config';
import { CliError, EXIT, usage } from './errors';
import { handedDown, inheritedLeaseHeaders } from './lease';
import { clipFlag, LIMITS } from './limits';
import {
  age,
  type Column,
  col,
  defaultOutput,
  formatTable,
  paint,
  paintStatus,
  printJson,
  printRecord,
  printTable,
  progressBar,
  type Style,
  sanitize,
  statusPaint,
  wrap,
} from './output';
import { requireState } from './runner';
import { STEP_ENVIRONMENT } from './step-env';
import { choice } from './suggest';
import { anyLabel, type Platform, platformsFor, targetColumn, targetLabel } from './target';

/** A login's fields in the config file, cleared together. */
const NO_LOGIN = {
  token: undefined,
  token_expires_at: undefined,
  token_username: undefined,
  refresh_token: undefined,
  refresh_expires_at: undefined,
};

export type { Command, Ctx, OptionSpec } from './command';

const showBuild = (ctx: Ctx, build: BuildView) =>
  show(ctx, ctx.output === 'json' ? build : withCostLine(build), build.id);

/** A build's cost on one line for the terminal: `USD 0.185000 (failed 0.090000, saved by resuming 0.180000; by state 10: 0.060000, …)`. */
function withCostLine(build: BuildView): Record<string, unknown> {
  const c = build.cost;
  if (!c) return build;
  const states = Object.entries(c.by_state).map(([code, amount]) => `${code}: ${amount}`);
  const others = (c.other_currencies ?? []).map((o) => ` + ${o.currency} ${o.total}`).join('');
  return {
    ...build,
    cost: `${c.currency} ${c.total}${others} (failed ${c.failed}, saved by resuming ${c.avoided}${states.length ? `; by state ${states.join(', ')}` : ''})`,
  };
}

/**
 * On stderr: the state just reported is not in the project's catalog, with the nearest codes it
 * has (a typo of 45 as 43 shows `40 …, 45 …`). Silent if the catalog cannot be read.
 */
async function warnUnknownState(ctx: Ctx, project: string, state: number): Promise<void> {
  let codes: { code: number; name: string }[];
  try {
    codes = (
      await ctx
        .client()
        .get<{ state_codes: { code: number; name: string }[] }>(`/projects/${seg(project)}/state-codes`)
    ).state_codes;
  } catch {
    return;
  }
  const below = codes.filter((c) => c.code < state).at(-1);
  const above = codes.find((c) => c.code > state);
  const near = [below, above].filter(Boolean).map((c) => `${c!.code} ${sanitize(c!.name)}`);
  process.stderr.write(
    `bldst: warning: state ${state} is not in project ${sanitize(project)}'s catalog${near.length ? ` (nearest: ${near.join(', ')})` : ''}; recorded as an inserted state. See bldst state-codes get ${sanitize(project)}\n`,
  );
}

async function labelledColumns(ctx: Ctx, items: BuildView[]): Promise<Column<BuildView>[]> {
  const platforms = await platformsFor(ctx.client(), items);
  return buildColumns(platforms, anyLabel(items, platforms));
}

/**
 * `build list` on a terminal: what an operator scans for, in the space there is. The id, platform,
 * target, state and status identify a row and keep their width; progress, age, attempt, image type,
 * project and worker give way first (in that order of `drop`).
 */
const buildColumns = (platforms: Map<string, Platform>, labels: boolean): Column<BuildView>[] => [
  col('id', 'ID', { min: 10 }),
  col('project_id', 'PROJECT', { drop: 3 }),
  col('platform_id', 'PLATFORM', { distinct: true }),
  ...(labels ? [targetColumn<BuildView>(platforms)] : []),
  col('image_type_id', 'IMAGE TYPE', { drop: 2 }),
  { header: 'STATE', value: (b) => `${b.current_state} ${b.state_name ?? ''}`.trim(), min: 8 },
  { header: 'STATUS', value: (b) => b.status, paint: (b) => statusPaint(b.status), min: 11 },
  {
    header: 'ATTEMPT',
    value: (b) => (b.attempt ? `${b.attempt}/${b.max_attempts}` : '-'),
    right: true,
    drop: 1,
  },
  { header: 'PROGRESS', value: (b) => progressBar(b.progress_percent, 10), min: 16, drop: 4 },
  { header: 'AGE', value: (b) => age(b.created_at), right: true, min: 4, drop: 2.5 },
  { header: 'LAST WORKER', value: (b) => b.last_worker_id, drop: 0.5, distinct: true },
];

const stateOpt = { type: 'string', description: 'state code 0-100' } as const;

const ARTIFACT_COLUMNS: Column<Record<string, unknown>>[] = [
  col('state_code', 'STATE', { right: true }),
  col('name', 'NAME', { min: 10 }),
  col('storage_type', 'STORAGE'),
  col('size_bytes', 'SIZE', { right: true }),
  {
    header: 'VERIFIED',
    value: (a) => (a.verified ? 'yes' : 'no'),
    paint: (a) => (a.verified ? 'green' : 'yellow'),
  },
  col('checksum', 'CHECKSUM', { min: 12, drop: 1 }),
  col('uri', 'URI', { min: 10 }),
];

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
  for (;;) {
    const parent = await ctx.client().get<BuildView>(`/builds/${seg(id)}`);
    const children = await allPages<BuildView>(ctx.client(), `/builds/${seg(id)}/children`);
    // Oldest first: the order the fork named them (the API lists newest first).
    children.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    platforms ??= await platformsFor(ctx.client(), children);
    if (tty) process.stdout.write(`\x1b[2J\x1b[H${renderFamily(ctx.style, parent, children, platforms)}`);
    else process.stdout.write(changedLines(seen, familyLines(ctx.style, parent, children, platforms)));
    const outcome = familyOutcome(children);
    if (outcome.done) return outcome.code;
    await new Promise((r) => setTimeout(r, interval));
  }
}

const CORE: Command[] = [
  {
    path: ['config', 'set-url'],
    args: '<url>',
    summary: 'Set the BuildState API URL in the config file',
    examples: ['bldst config set-url http://127.0.0.1:8080'],
    async run(ctx, _v, positionals) {
      const url = one(positionals, 'URL');
      if (!/^https?:\/\/\S+$/.test(url)) throw usage('the URL must start with http:// or https://');
      writeConfigFile({ url: url.replace(/\/+$/, '') });
      if (!ctx.quiet) process.stderr.write(`saved to ${configPath()}\n`);
      return EXIT.ok;
    },
  },
  {
    path: ['config', 'show'],
    summary: 'Show the URL and key in use and where they come from (the key is masked)',
    examples: ['bldst config show'],
    async run(ctx) {
      const c = resolveConfig();
      const shown = {
        url: c.url,
        url_source: c.urlSource,
        api_key: c.apiKey ? `${c.apiKey.slice(0, 6)}…${c.apiKey.slice(-4)}` : null,
        api_key_source: c.keySource,
        credential: c.credential?.kind ?? null,
        ...(c.credential?.kind === 'bearer'
          ? { login: c.credential.username ?? null, expires_at: c.credential.expiresAt ?? null }
          : {}),
        config_file: configPath(),
      };
      show(ctx, shown);
      return EXIT.ok;
    },
  },
  {
    path: ['auth', 'set-key'],
    args: '<api-key>',
    summary: 'Store an API key in the config file (mode 0600)',
    examples: ['bldst auth set-key bst_…', 'bldst auth set-key "$(cat key.txt)"'],
    async run(ctx, _v, positionals) {
      // The key replaces a login token: whichever was set last is used.
      writeConfigFile({
        api_key: one(positionals, 'API key'),
        ...NO_LOGIN,
      });
      if (!ctx.quiet) process.stderr.write(`saved to ${configPath()}\n`);
      return EXIT.ok;
    },
  },
  {
    path: ['auth', 'logout'],
    summary:
      'Remove the stored API key or login from the config file; a login is also revoked on the server (its refresh token stops working)',
    examples: ['bldst auth logout'],
    async run(ctx) {
      const stored = readConfigFile();
      if (stored.refresh_token) {
        try {
          await new Client(resolveConfig().url, undefined).post('/auth/revoke', {
            refresh_token: stored.refresh_token,
          });
        } catch (error) {
          // Logging out locally still happens; the token then lives until it expires.
          if (!ctx.quiet)
            process.stderr.write(
              `bldst: the login could not be revoked on the server (${(error as Error).message}); it is removed here\n`,
            );
        }
      }
      writeConfigFile({ api_key: undefined, ...NO_LOGIN });
      return EXIT.ok;
    },
  },
  {
    path: ['auth', 'whoami'],
    summary: 'Show who the server takes you for',
    examples: ['bldst auth whoami'],
    async run(ctx) {
      const me = await ctx.client().get<Record<string, unknown>>('/whoami');
      show(ctx, me, me.id);
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'create'],
    summary: 'Create a build (prints it; with -q just its id)',
    options: {
      'platform-id': {
        type: 'string',
        description: 'platform, e.g. aws-commercial (required; --platform also works)',
      },
      platform: { type: 'string', description: 'same as --platform-id' },
      'image-type-id': {
        type: 'string',
        description: 'image type, e.g. base or rhel8 (required; --image-type also works)',
      },
      'image-type': { type: 'string', description: 'same as --image-type-id' },
      id: { type: 'string', description: 'choose the build id (default: generated, sortable)' },
      'project-id': { type: 'string', description: 'project (default: default)' },
      'os-version-id': { type: 'string', description: 'OS version, e.g. rhel-9.3' },
      'build-number': { type: 'string', description: 'CI build number' },
      description: { type: 'string', description: 'free text' },
      metadata: { type: 'string', description: 'JSON object, e.g. \'{"packer":"1.9.1"}\'' },
      'base-build-id': {
        type: 'string',
        description: 'the build whose image this one starts from (its lineage; refused if revoked)',
      },
    },
    examples: [
      'BUILD_ID=$(bldst build create --platform-id aws --image-type-id base -q)',
      'bldst build create --platform aws --image-type rhel8 --description "RHEL 8 base image"',
    ],
    async run(ctx, v) {
      const platform = str(v['platform-id']) ?? str(v.platform);
      const imageType = str(v['image-type-id']) ?? str(v['image-type']);
      if (!platform || !imageType)
        throw usage(
          !platform && !imageType
            ? '--platform-id (or --platform) and --image-type-id (or --image-type) are required'
            : `${!platform ? '--platform-id (or --platform)' : '--image-type-id (or --image-type)'} is required`,
        );
      const build = await ctx.client().post<BuildView>(
        '/builds',
        compact({
          platform_id: platform,
          image_type_id: imageType,
          id: str(v.id),
          project_id: str(v['project-id']),
          os_version_id: str(v['os-version-id']),
          build_number: str(v['build-number']),
          description: str(v.description),
          metadata: json(str(v.metadata), '--metadata'),
          base_build_id: str(v['base-build-id']),
        }),
      );
      showBuild(ctx, build);
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'list'],
    summary: 'List builds, newest first',
    options: {
      status: { type: 'string', description: 'pending|in_progress|failed|blocked|completed|cancelled' },
      'project-id': { type: 'string', description: 'only this project' },
      'platform-id': { type: 'string', description: 'only this platform' },
      'parent-id': { type: 'string', description: 'only the children of this fork parent' },
      limit: { type: 'string', description: 'at most this many (default 25)' },
      all: { type: 'boolean', description: 'follow cursors until the end' },
    },
    examples: ['bldst build list', 'bldst build list --status failed --platform-id aws -o json'],
    async run(ctx, v) {
      const limit = int(str(v.limit), '--limit') ?? 25;
      const query = new URLSearchParams(
        compact({
          status: choice(str(v.status), BUILD_STATUSES, '--status'),
          project_id: str(v['project-id']),
          platform_id: str(v['platform-id']),
          parent_id: str(v['parent-id']),
        }) as Record<string, string>,
      );
      const items: BuildView[] = [];
      let cursor: string | null = null;
      do {
        const q = new URLSearchParams(query);
        q.set('limit', String(Math.min(100, v.all ? 100 : limit - items.length)));
        if (cursor) q.set('cursor', cursor);
        const page: { items: BuildView[]; next_cursor: string | null } = await ctx
          .client()
          .get(`/builds?${q}`);
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor && (v.all || items.length < limit));
      if (ctx.quiet) for (const b of items) process.stdout.write(`${b.id}\n`);
      else if (ctx.output === 'json') printJson(items);
      else
        printTable(items, await labelledColumns(ctx, items), ctx.style, {
          wide: ctx.wide,
          empty:
            v.status || v['project-id'] || v['platform-id'] || v['parent-id']
              ? 'no builds match'
              : 'no builds yet',
        });
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'get'],
    args: '<build-id>',
    summary: 'Show one build',
    examples: ['bldst build get $BUILD_ID'],
    async run(ctx, _v, p) {
      showBuild(ctx, await ctx.client().get<BuildView>(`/builds/${seg(one(p, 'build id'))}`));
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'history'],
    args: '<build-id>',
    summary: 'Show every change of a build, oldest first',
    examples: ['bldst build history $BUILD_ID'],
    async run(ctx, _v, p) {
      const id = seg(one(p, 'build id'));
      const items: Record<string, unknown>[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Record<string, unknown>[]; next_cursor: string | null } = await ctx
          .client()
          .get(`/builds/${id}/history?limit=500${cursor ? `&cursor=${seg(cursor)}` : ''}`);
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor);
      if (ctx.output === 'json') printJson(items);
      else
        printTable(
          items,
          [
            col('seq', 'SEQ', { right: true }),
            col('event', 'EVENT'),
            {
              header: 'STATE',
              value: (h) => (h.state_code === null ? '-' : `${h.state_code} ${h.state_name ?? ''}`.trim()),
              min: 8,
            },
            col('status', 'STATUS', { paint: (h) => statusPaint(h.status as string), min: 11 }),
            col('attempt', 'ATTEMPT', { right: true }),
            col('build_status', 'BUILD', { paint: (h) => statusPaint(h.build_status as string), min: 11 }),
            col('worker_id', 'WORKER', { distinct: true }),
            { header: 'DETAIL', value: (h) => h.error ?? h.reason ?? h.message, min: 10, drop: 1 },
            col('recorded_at', 'RECORDED AT', { min: 20, drop: 2 }),
          ],
          ctx.style,
          { wide: ctx.wide, empty: 'no history' },
        );
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'resume'],
    args: '<build-id>',
    summary: 'What a worker should do next (action, state, input artifacts)',
    examples: ['bldst build resume $BUILD_ID', 'bldst build resume $BUILD_ID -o json | jq -r .action'],
    async run(ctx, _v, p) {
      const advice = await ctx
        .client()
        .get<Record<string, unknown>>(`/builds/${seg(one(p, 'build id'))}/resume`);
      if (ctx.quiet) process.stdout.write(`${advice.action} ${advice.state_code ?? ''}\n`);
      else if (ctx.output === 'json') printJson(advice);
      else {
        const { input_artifacts, ...rest } = advice as {
          input_artifacts: { state_code: number; name: string; checksum: string }[];
        };
        printRecord(
          {
            ...rest,
            input_artifacts:
              input_artifacts.map((a) => `${a.state_code}/${a.name} ${a.checksum}`).join(', ') || null,
          },
          ctx.style,
        );
      }
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'add-state'],
    alias: ['build', 'update'],
    args: '[build-id]',
    summary:
      'Report a state: --state N --status in_progress|completed|failed (under the lease of an outer bldst run, if any)',
    options: {
      state: stateOpt,
      status: { type: 'string', description: 'in_progress | completed | failed' },
      message: { type: 'string', description: 'what happened' },
      error: { type: 'string', description: 'error text for failures' },
      'error-code': {
        type: 'string',
        description:
          'with --status failed: interrupted (the step was stopped; not counted toward max_attempts)',
      },
      worker: { type: 'string', description: 'this build server (worker_id; default $BLDST_WORKER_ID)' },
      'hourly-cost': {
        type: 'string',
        description:
          "this worker's price per hour in the platform's currency (e.g. 0.192): prices this attempt instead of the platform's",
      },
      metadata: { type: 'string', description: 'JSON object kept in the history entry' },
      'if-match': { type: 'string', description: 'apply only if the build is at this version' },
      'storage-type': {
        type: 'string',
        description:
          'also register an artifact of this state (s3, nfs, ebs, ceph, azure_blob, gcs, http, other)',
      },
      'storage-path': {
        type: 'string',
        description:
          'where that artifact is (URI); its file name becomes the artifact name. The report and the artifact are recorded together or not at all',
      },
      checksum: { type: 'string', description: 'sha256:<hex> of that artifact' },
    },
    examples: [
      'bldst build add-state $BUILD_ID --state 5 --status in_progress',
      'bldst build add-state $BUILD_ID --state 10 --status completed --storage-type s3 --storage-path s3://builds/$BUILD_ID/base-image.qcow2 --checksum "sha256:$(sha256sum base-image.qcow2 | cut -d" " -f1)"',
      'bldst build update $BUILD_ID --state 25 --status failed --error "security scan failed"',
      'bldst build update --state 15 --status completed   # inside bldst run: $BLDST_BUILD_ID and its lease',
    ],
    async run(ctx, v, p) {
      const id = buildArg(p);
      const state = requireState(str(v.state));
      const status = choice(str(v.status), ['in_progress', 'completed', 'failed'], '--status');
      if (!status) throw usage('--status is required (in_progress, completed or failed)');
      // The artifact the seeds keep on the state row goes in the report itself: the server
      // validates both and commits them together, or neither (POST /builds/{id}/states `artifacts`).
      const storageType = choice(str(v['storage-type']), STORAGE_TYPES, '--storage-type');
      const uri = str(v['storage-path']);
      if (storageType && !uri) throw usage('--storage-path is required with --storage-type');
      if (uri && !storageType) throw usage('--storage-type is required with --storage-path');
      if (str(v.checksum) && !storageType) throw usage('--checksum describes the artifact of --storage-type');
      const artifacts =
        storageType && uri
          ? [
              compact({
                name: uri.split('/').filter(Boolean).pop() ?? 'artifact',
                storage_type: storageType,
                uri,
                checksum: str(v.checksum),
              }),
            ]
          : undefined;
      const build = await ctx.client().post<BuildView>(
        `/builds/${seg(id)}/states`,
        compact({
          state_code: state,
          status,
          message: clipFlag(str(v.message), LIMITS.message, '--message'),
          error: clipFlag(str(v.error), LIMITS.error, '--error'),
          error_code: str(v['error-code']),
          worker_id: str(v.worker) ?? handedDown().workerId,
          hourly_cost: str(v['hourly-cost']),
          metadata: json(str(v.metadata), '--metadata'),
          artifacts,
        }),
        {
          ...inheritedLeaseHeaders(id),
          ...(str(v['if-match']) ? { 'if-match': str(v['if-match'])! } : {}),
        },
      );
      showBuild(ctx, build);
      // A code the project's catalog lacks is allowed (inserts like 42), but is often a typo.
      if (build.state_name === null) await warnUnknownState(ctx, build.project_id, state);
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'cancel'],
    args: '<build-id>',
    summary: 'Cancel a build for good',
    options: { reason: { type: 'string', description: 'why (required)' } },
    examples: ['bldst build cancel $BUILD_ID --reason "superseded by build 43"'],
    async run(ctx, v, p) {
      if (!str(v.reason)) throw usage('--reason is required');
      showBuild(
        ctx,
        await ctx
          .client()
          .post<BuildView>(`/builds/${seg(one(p, 'build id'))}/cancel`, { reason: str(v.reason) }),
      );
      return EXIT.ok;
    },
  },
  {
    path: ['build', 'unblock'],
    args: '<build-id>',
    summary: 'Allow another attempt of a blocked build',
    options: {
      reason: { type: 'string', description: 'what was fixed (required)' },
      'additional-attempts': { type: 'string', description: 'attempts to grant (default 1)' },
    },
    examples: ['bldst build unblock $BUILD_ID --reason "LDAP mirror fixed"'],
    async run(ctx, v, p) {
      if (!str(v.reason)) throw usage('--reason is required');
      const body = compact({
        reason: str(v.reason),
        additional_attempts: int(str(v['additional-attempts']), '--additional-attempts'),
      });
      showBuild(ctx, await ctx.client().post<BuildView>(`/builds/${seg(one(p, 'build id'))}/unblock`, body));
      return EXIT.ok;
    },
  },
  {
    path: ['artifact', 'add'],
    args: '[build-id]',
    summary:
      'Register an artifact stored elsewhere (a pointer with its checksum), or every artifact of a Packer manifest',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'file name (required without --from-packer-manifest)' },
      'storage-type': {
        type: 'string',
        description:
          's3, nfs, ebs, ceph, azure_blob, gcs, http, other (required without --from-packer-manifest)',
      },
      uri: { type: 'string', description: 'where it is, e.g. nfs://filer/builds/x.qcow2' },
      checksum: { type: 'string', description: 'sha256:<hex>' },
      'size-bytes': { type: 'string', description: 'size in bytes' },
      format: { type: 'string', description: 'qcow2, vmdk, raw, …' },
      'from-packer-manifest': {
        type: 'string',
        description:
          "register what Packer's manifest post-processor recorded for its last run: one artifact per region:image id, files with their SHA-256",
      },
      'packer-manifest': {
        type: 'string',
        description:
          "same as --from-packer-manifest; the images of its cloud builders are also recorded as the build's images (bldst image list)",
      },
      upload: {
        type: 'boolean',
        description:
          "with --from-packer-manifest: upload the manifest's files into BuildState and verify them",
      },
    },
    examples: [
      'bldst artifact add $BUILD_ID --state 30 --name state-30.qcow2 --storage-type nfs --uri nfs://filer01/builds/state-30.qcow2 --checksum sha256:…',
      'bldst artifact add $BUILD_ID --from-packer-manifest packer-manifest.json --state 15',
    ],
    async run(ctx, v, p) {
      const id = buildArg(p);
      const state = requireState(str(v.state));
      const manifest = str(v['from-packer-manifest']) ?? str(v['packer-manifest']);
      if (manifest) {
        const { planFromManifest, registerPlanned } = await import('./packer-manifest');
        const { imagesOf, recordImages } = await import('./packer-images');
        const planned = await planFromManifest(manifest);
        const done = await registerPlanned(ctx.client(), id, state, planned, { upload: Boolean(v.upload) });
        // The published images (an AMI per region …) are the build's output: channels hand them out.
        const images = await recordImages(ctx.client(), id, imagesOf(planned));
        if (images.length && !ctx.quiet)
          process.stderr.write(
            `recorded ${images.length} image(s) of ${id}: ${images.map((i) => `${i.region}:${i.image_id}`).join(', ')}\n`,
          );
        if (ctx.quiet) for (const a of done) process.stdout.write(`${a.name}\n`);
        else if (ctx.output === 'json')
          printJson(done.map((a) => withoutUrls(ctx, a as unknown as Record<string, unknown>)));
        else if (done.length === 0) process.stdout.write(`${manifest}: no artifacts in the last run\n`);
        else
          printTable(done as unknown as Record<string, unknown>[], ARTIFACT_COLUMNS, ctx.style, {
            wide: ctx.wide,
          });
        return EXIT.ok;
      }
      if (!str(v.name) || !str(v['storage-type'])) throw usage('--name and --storage-type are required');
      const a = await ctx.client().post<Record<string, unknown>>(
        `/builds/${seg(id)}/states/${state}/artifacts`,
        compact({
          name: str(v.name),
          storage_type: choice(str(v['storage-type']), STORAGE_TYPES, '--storage-type'),
          uri: str(v.uri),
          checksum: str(v.checksum),
          size_bytes: int(str(v['size-bytes']), '--size-bytes'),
          format: str(v.format),
        }),
      );
      show(ctx, withoutUrls(ctx, a));
      return EXIT.ok;
    },
  },
  {
    path: ['artifact', 'upload'],
    args: '<build-id> <file>',
    summary: 'Upload a file as the artifact of a state (checksum computed, upload verified)',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'artifact name (default: the file name)' },
      format: { type: 'string', description: 'qcow2, vmdk, raw, …' },
      'part-size': {
        type: 'string',
        description:
          'multipart part size, 5MiB..5GiB (default 64MiB; grown to stay within 10,000 parts); larger files go in parts',
      },
      parallel: { type: 'string', description: 'parts sent at once (default 8)' },
      progress: {
        type: 'boolean',
        description: 'show progress on a pipe too (a terminal shows it unless -q)',
      },
    },
    examples: [
      'bldst artifact upload $BUILD_ID image.qcow2 --state 25',
      'bldst artifact upload $BUILD_ID rhel9.raw --state 25 --part-size 128MiB --parallel 16',
    ],
    async run(ctx, v, p) {
      if (p.length !== 2) throw usage('expected <build-id> <file>');
      const { uploadArtifact } = await import('./artifacts');
      const { transferOptions } = await import('./upload');
      const { progressReporter, wantProgress } = await import('./progress');
      const transfer = transferOptions(str(v['part-size']), str(v.parallel));
      const progress = progressReporter(
        p[1]!,
        wantProgress({ quiet: ctx.quiet, progress: v.progress === true }),
      );
      const a = await uploadArtifact(ctx.client(), p[0]!, requireState(str(v.state)), p[1]!, {
        name: str(v.name),
        format: str(v.format),
        ...transfer,
        onProgress: progress.onProgress,
      }).finally(progress.done);
      show(ctx, withoutUrls(ctx, a as unknown as Record<string, unknown>), a.checksum);
      return EXIT.ok;
    },
  },
  {
    path: ['artifact', 'download'],
    args: '<build-id>',
    summary: 'Download an artifact and check its checksum (exit 3 on mismatch)',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'artifact name (required)' },
      to: { type: 'string', short: 'O', description: 'file to write (default: the artifact name)' },
      parallel: { type: 'string', description: 'ranged GETs at once (default 8)' },
      progress: {
        type: 'boolean',
        description: 'show progress on a pipe too (a terminal shows it unless -q)',
      },
    },
    examples: [
      'bldst artifact download $BUILD_ID --state 25 --name image.qcow2',
      'HTTPS_PROXY=http://proxy.corp:3128 bldst artifact download $BUILD_ID --state 25 --name image.qcow2 --parallel 16',
    ],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      const name = str(v.name);
      if (!name) throw usage('--name is required');
      const parallel = int(str(v.parallel), '--parallel');
      if (parallel !== undefined && (parallel < 1 || parallel > 64))
        throw usage('--parallel must be between 1 and 64');
      const { downloadArtifact } = await import('./artifacts');
      const { createProgress, wantProgress } = await import('./progress');
      const a = await ctx
        .client()
        .get<import('./artifacts').ArtifactView>(
          `/builds/${seg(id)}/states/${requireState(str(v.state))}/artifacts/${seg(name)}`,
        );
      const to = str(v.to) ?? name;
      const enabled = wantProgress({ quiet: ctx.quiet, progress: v.progress === true });
      const got = await downloadArtifact(a, to, {
        parallel,
        progress: ({ total }) => createProgress({ label: to, total, enabled }),
      });
      if (!ctx.quiet)
        process.stderr.write(
          `${str(v.to) ?? name}: ${got.size} bytes, ${got.checksum}${a.checksum ? ' (matches)' : ''}\n`,
        );
      return EXIT.ok;
    },
  },
  {
    path: ['artifact', 'verify'],
    args: '<build-id>',
    summary: 'Have the server check size and checksum and mark the artifact verified',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'artifact name (required)' },
      file: {
        type: 'string',
        description:
          'external artifacts: the file as this worker sees it (e.g. on the NFS mount); its SHA-256 and size are computed and sent',
      },
      checksum: { type: 'string', description: 'what you observed (external artifacts; --file computes it)' },
      'size-bytes': {
        type: 'string',
        description: 'what you observed (external artifacts; --file computes it)',
      },
    },
    examples: [
      'bldst artifact verify $BUILD_ID --state 30 --name state-30.qcow2 --file /mnt/nfs/builds/state-30.qcow2',
      'bldst artifact verify $BUILD_ID --state 25 --name image.qcow2   # a managed upload: the server reads it',
    ],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      const name = str(v.name);
      if (!name) throw usage('--name is required');
      const file = str(v.file);
      if (file && (str(v.checksum) || str(v['size-bytes'])))
        throw usage(
          '--file computes the checksum and size: give --file or --checksum/--size-bytes, not both',
        );
      let observed: { checksum: string; size: number } | undefined;
      if (file) {
        const { fileDigest } = await import('./transfer');
        observed = await fileDigest(file).catch((error: Error) => {
          throw new CliError(`cannot read ${file}: ${error.message}`, EXIT.usage, 'usage');
        });
      }
      const body = compact({
        checksum: observed?.checksum ?? str(v.checksum),
        size_bytes: observed?.size ?? int(str(v['size-bytes']), '--size-bytes'),
      });
      const a = await ctx
        .client()
        .post<Record<string, unknown>>(
          `/builds/${seg(id)}/states/${requireState(str(v.state))}/artifacts/${seg(name)}/verify`,
          Object.keys(body).length ? body : undefined,
        );
      show(ctx, withoutUrls(ctx, a));
      return EXIT.ok;
    },
  },
  {
    path: ['artifact', 'list'],
    args: '<build-id>',
    summary: 'All artifacts of a build, by state',
    examples: ['bldst artifact list $BUILD_ID'],
    async run(ctx, _v, p) {
      const res = await ctx
        .client()
        .get<{ states: { artifacts: Record<string, unknown>[] }[] }>(
          `/builds/${seg(one(p, 'build id'))}/artifacts`,
        );
      const rows = res.states.flatMap((s) => s.artifacts);
      ctx.output === 'json'
        ? printJson(res)
        : printTable(rows, ARTIFACT_COLUMNS, ctx.style, { wide: ctx.wide, empty: 'no artifacts' });
      return EXIT.ok;
    },
  },
  {
    path: ['run'],
    args: '-- <command> [args…]',
    summary:
      'Run a command under a lease on the build; with --state report in_progress, then completed (with --artifact uploaded) or failed, and skip a state already completed',
    passthrough: true,
    options: {
      build: { type: 'string', description: 'build id (required; default $BLDST_BUILD_ID)' },
      state: {
        type: 'string',
        description:
          'state code 0-100 to report; without it the lease is only held and the command reports its own states',
      },
      artifact: {
        type: 'string',
        description: "file to upload and verify as this state's artifact on success",
      },
      worker: { type: 'string', description: 'worker id (default: host:pid or $BLDST_WORKER_ID)' },
      'lease-ttl': {
        type: 'string',
        description:
          'seconds the lease on the build lasts without a renewal (5-3600, default 120; renewed every third)',
      },
    },
    examples: [
      'bldst run --build $BUILD_ID --state 10 --artifact output/image.qcow2 -- packer build kickstart.pkr.hcl',
      'bldst run --build $BUILD_ID -- packer build image.pkr.hcl   # its provisioners report states themselves',
    ],
    async run(ctx, v, _p, rest) {
      const id = str(v.build) ?? handedDown().buildId;
      if (!id) throw usage('--build is required');
      if (rest.length === 0)
        throw usage('give the command after --, e.g. bldst run --build ID --state 10 -- make image');
      if (str(v.artifact) && str(v.state) === undefined) throw usage('--artifact needs --state');
      const { runState } = await import('./runner');
      return runState(ctx.client(), {
        buildId: id,
        state: str(v.state) === undefined ? undefined : requireState(str(v.state)),
        command: rest,
        artifact: str(v.artifact),
        workerId: str(v.worker),
        leaseTtlSeconds: int(str(v['lease-ttl']), '--lease-ttl'),
        uploadProgress: !ctx.quiet,
      });
    },
  },
  {
    path: ['pipeline', 'run'],
    args: '<file.yaml|file.json>',
    summary:
      'Run a pipeline file from where the build left off (skips completed states, fetches the input artifact, retries); a fan_out forks the build and runs its children in parallel',
    options: {
      build: { type: 'string', description: 'build id (required; default $BLDST_BUILD_ID)' },
      workdir: {
        type: 'string',
        description: 'where steps run and artifacts live (default: current directory)',
      },
      'retry-delay': {
        type: 'string',
        description: 'first retry delay in ms, doubled each time (default 2000)',
      },
      worker: { type: 'string', description: 'worker id (default: host:pid or $BLDST_WORKER_ID)' },
      'lease-ttl': {
        type: 'string',
        description:
          'seconds the lease on the build lasts without a renewal (5-3600, default 120; renewed every third)',
      },
      parallel: {
        type: 'string',
        description: 'with a fan_out: children run at the same time, at most this many (1-100, default 4)',
      },
    },
    examples: [
      'bldst pipeline run pipeline.yaml --build $BUILD_ID',
      'bldst pipeline run regions.yaml --build $BASE_ID --parallel 6   # common steps, then one child per region',
    ],
    helpSections: [{ title: 'Step environment (set in every step)', rows: STEP_ENVIRONMENT }],
    async run(ctx, v, p) {
      const id = str(v.build) ?? handedDown().buildId;
      if (!id) throw usage('--build is required');
      const parallel = int(str(v.parallel), '--parallel') ?? 4;
      if (parallel < 1 || parallel > 100) throw usage('--parallel must be 1-100');
      const { runPipeline } = await import('./pipeline-run');
      return runPipeline(ctx.client(), {
        parallel,
        file: one(p, 'pipeline file'),
        buildId: id,
        workdir: str(v.workdir) ?? process.cwd(),
        retryDelayMs: int(str(v['retry-delay']), '--retry-delay') ?? 2000,
        workerId: str(v.worker),
        leaseTtlSeconds: int(str(v['lease-ttl']), '--lease-ttl'),
      });
    },
  },
  {
    path: ['watch'],
    args: '[build-id]',
    summary:
      'Live progress of one build (of a fork parent: its line, one bar per child and the roll-up), or of all active builds, until done or Ctrl-C',
    options: { interval: { type: 'string', description: 'seconds between refreshes (default 2)' } },
    examples: ['bldst watch $BUILD_ID', 'bldst watch $BASE_ID   # a fork parent: every child', 'bldst watch'],
    async run(ctx, v, p) {
      const id = p[0];
      const interval = (int(str(v.interval), '--interval') ?? 2) * 1000;
      const tty = Boolean(process.stdout.isTTY);
      if (id && (await allPages(ctx.client(), `/builds/${seg(id)}/children`, 1)).length > 0)
        return watchFamily(ctx, id, interval, tty);
      let last = '';
      let platforms: Map<string, Platform> | undefined;
      for (;;) {
        const builds = await watchOnce(ctx.client(), id);
        platforms ??= await platformsFor(ctx.client(), builds);
        const text = id ? watchOne(ctx.style, builds[0]!, platforms) : watchAll(ctx, builds, platforms);
        // On a terminal the screen is redrawn; in a pipe (a CI log) a line is written only when it changes.
        if (tty) process.stdout.write(`\x1b[2J\x1b[H${text}`);
        else if (text !== last) process.stdout.write(text);
        last = text;
        if (id && ['completed', 'cancelled', 'blocked'].includes(builds[0]!.status))
          return builds[0]!.status === 'completed' ? EXIT.ok : EXIT.conflict;
        if (!tty && !id) return EXIT.ok;
        await new Promise((r) => setTimeout(r, interval));
      }
    },
  },
];

/** Help lists commands in this order of their first word (the order a new user needs them). */
const GROUPS = [
  'config',
  'auth',
  'user',
  'token',
  'api-key',
  'project',
  'platform',
  'os-version',
  'image-type',
  'state-codes',
  'build',
  'artifact',
  'image',
  'channel',
  'provenance',
  'run',
  'pipeline',
  'watch',
  'lease',
  'heartbeat',
  'dashboard',
];

export const COMMANDS: Command[] = [
  ...CORE,
  ...FAN_OUT_COMMANDS,
  ...LINEAGE_COMMANDS,
  ...PROVENANCE_COMMANDS,
  ...REFERENCE_COMMANDS,
  ...IDENTITY_COMMANDS,
  ...OPS_COMMANDS,
]
  .map((c, i) => ({ c, i }))
  .sort((x, y) => GROUPS.indexOf(x.c.path[0]!) - GROUPS.indexOf(y.c.path[0]!) || x.i - y.i)
  .map(({ c }) => c);

export { ApiError, CliError, defaultOutput };

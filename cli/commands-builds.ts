/** A build and its states: create, list, get, history, resume, add-state (update), cancel, unblock. */
import { STORAGE_TYPES } from '../lib/artifacts/artifact.model';
import { BUILD_STATUSES } from '../lib/builds/build.model';
import type { BuildView } from '../lib/builds/build.view';
import {
  buildArg,
  type Command,
  type Ctx,
  compact,
  defineCommand,
  int,
  json,
  one,
  seg,
  show,
  stateOpt,
} from './command';
import { EXIT, usage } from './errors';
import { handedDown, inheritedLeaseHeaders } from './lease';
import { clipFlag, LIMITS } from './limits';
import {
  age,
  type Column,
  col,
  printJson,
  printRecord,
  printTable,
  progressBar,
  sanitize,
  statusPaint,
} from './output';
import { requireState } from './runner';
import { choice } from './suggest';
import { anyLabel, type Platform, platformsFor, targetColumn } from './target';

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

export const BUILD_COMMANDS: Command[] = [
  defineCommand({
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
      const platform = v['platform-id'] ?? v.platform;
      const imageType = v['image-type-id'] ?? v['image-type'];
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
          id: v.id,
          project_id: v['project-id'],
          os_version_id: v['os-version-id'],
          build_number: v['build-number'],
          description: v.description,
          metadata: json(v.metadata, '--metadata'),
          base_build_id: v['base-build-id'],
        }),
      );
      showBuild(ctx, build);
      return EXIT.ok;
    },
  }),
  defineCommand({
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
      const limit = int(v.limit, '--limit') ?? 25;
      const query = new URLSearchParams(
        compact({
          status: choice(v.status, BUILD_STATUSES, '--status'),
          project_id: v['project-id'],
          platform_id: v['platform-id'],
          parent_id: v['parent-id'],
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
  }),
  defineCommand({
    path: ['build', 'get'],
    args: '<build-id>',
    summary: 'Show one build',
    examples: ['bldst build get $BUILD_ID'],
    async run(ctx, _v, p) {
      showBuild(ctx, await ctx.client().get<BuildView>(`/builds/${seg(one(p, 'build id'))}`));
      return EXIT.ok;
    },
  }),
  defineCommand({
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
  }),
  defineCommand({
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
  }),
  defineCommand({
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
      const state = requireState(v.state);
      const status = choice(v.status, ['in_progress', 'completed', 'failed'], '--status');
      if (!status) throw usage('--status is required (in_progress, completed or failed)');
      // The artifact the seeds keep on the state row goes in the report itself: the server
      // validates both and commits them together, or neither (POST /builds/{id}/states `artifacts`).
      const storageType = choice(v['storage-type'], STORAGE_TYPES, '--storage-type');
      const uri = v['storage-path'];
      if (storageType && !uri) throw usage('--storage-path is required with --storage-type');
      if (uri && !storageType) throw usage('--storage-type is required with --storage-path');
      if (v.checksum && !storageType) throw usage('--checksum describes the artifact of --storage-type');
      const artifacts =
        storageType && uri
          ? [
              compact({
                name: uri.split('/').filter(Boolean).pop() ?? 'artifact',
                storage_type: storageType,
                uri,
                checksum: v.checksum,
              }),
            ]
          : undefined;
      const build = await ctx.client().post<BuildView>(
        `/builds/${seg(id)}/states`,
        compact({
          state_code: state,
          status,
          message: clipFlag(v.message, LIMITS.message, '--message'),
          error: clipFlag(v.error, LIMITS.error, '--error'),
          error_code: v['error-code'],
          worker_id: v.worker ?? handedDown().workerId,
          hourly_cost: v['hourly-cost'],
          metadata: json(v.metadata, '--metadata'),
          artifacts,
        }),
        {
          ...inheritedLeaseHeaders(id),
          ...(v['if-match'] ? { 'if-match': v['if-match'] } : {}),
        },
      );
      showBuild(ctx, build);
      // A code the project's catalog lacks is allowed (inserts like 42), but is often a typo.
      if (build.state_name === null) await warnUnknownState(ctx, build.project_id, state);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['build', 'cancel'],
    args: '<build-id>',
    summary: 'Cancel a build for good',
    options: { reason: { type: 'string', description: 'why (required)' } },
    examples: ['bldst build cancel $BUILD_ID --reason "superseded by build 43"'],
    async run(ctx, v, p) {
      if (!v.reason) throw usage('--reason is required');
      showBuild(
        ctx,
        await ctx.client().post<BuildView>(`/builds/${seg(one(p, 'build id'))}/cancel`, { reason: v.reason }),
      );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['build', 'unblock'],
    args: '<build-id>',
    summary: 'Allow another attempt of a blocked build',
    options: {
      reason: { type: 'string', description: 'what was fixed (required)' },
      'additional-attempts': { type: 'string', description: 'attempts to grant (default 1)' },
    },
    examples: ['bldst build unblock $BUILD_ID --reason "LDAP mirror fixed"'],
    async run(ctx, v, p) {
      if (!v.reason) throw usage('--reason is required');
      const body = compact({
        reason: v.reason,
        additional_attempts: int(v['additional-attempts'], '--additional-attempts'),
      });
      showBuild(ctx, await ctx.client().post<BuildView>(`/builds/${seg(one(p, 'build id'))}/unblock`, body));
      return EXIT.ok;
    },
  }),
];

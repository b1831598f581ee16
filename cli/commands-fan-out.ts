/** `bldst build fork`: one base build, children that continue from one of its completed states. */
import { type Command, defineCommand, one } from './command';
import { EXIT, usage } from './errors';
import { type ChildView, type ForkChild, fork, forkKey, loadChildrenFile, parseChildSpec } from './fan-out';
import { type Column, col, printJson, printTable, progressBar, statusPaint } from './output';
import { requireState } from './runner';
import { type Platform, platformsFor, targetColumn } from './target';

/** A fork's children: id and target (what tells them apart) first and whole; metadata gives way first. */
export const childColumns = (platforms: Map<string, Platform> = new Map()): Column<ChildView>[] => [
  col('id', 'ID', { min: 10 }),
  col('platform_id', 'PLATFORM', { distinct: true }),
  targetColumn<ChildView>(platforms),
  col('image_type_id', 'IMAGE TYPE', { drop: 2 }),
  {
    header: 'METADATA',
    value: (b) => (b.metadata && Object.keys(b.metadata).length ? b.metadata : null),
    drop: 3,
  },
  { header: 'STATE', value: (b) => `${b.current_state} ${b.state_name ?? ''}`.trim(), min: 8 },
  { header: 'STATUS', value: (b) => b.status, paint: (b) => statusPaint(b.status), min: 11 },
  { header: 'PROGRESS', value: (b) => progressBar(Number(b.progress_percent), 10), min: 16, drop: 1 },
];

export const FAN_OUT_COMMANDS: Command[] = [
  defineCommand({
    path: ['build', 'fork'],
    args: '<parent-build-id>',
    summary:
      'Fork a build at a state it completed: children (per region, per cloud) that continue from there on their own',
    options: {
      at: {
        type: 'string',
        description: 'the state code to fork at (required; the parent must have completed it)',
      },
      child: {
        type: 'string',
        multiple: true,
        description:
          'one child, as key=value pairs: platform_id (required), id, image_type_id, os_version_id, build_number, description, metadata.KEY',
      },
      'children-file': {
        type: 'string',
        description:
          'a JSON or YAML list of children as the API takes them (or {children: [...]}; - for stdin)',
      },
      'idempotency-key': {
        type: 'string',
        description:
          'default: derived from the parent and the request, so the same fork run again finds the children it made',
      },
    },
    examples: [
      'bldst build fork $BUILD_ID --at 50 --child platform_id=aws-commercial,metadata.region=us-east-1 --child platform_id=aws-commercial,metadata.region=eu-west-1',
      'bldst build fork $BUILD_ID --at 50 --children-file regions.yaml -q',
    ],
    async run(ctx, v, p) {
      const parent = one(p, 'parent build id');
      if (v.at === undefined) throw usage('--at is required: the state code to fork at');
      const at = requireState(v.at, '--at');
      const children: ForkChild[] = (v.child ?? []).map((spec) => parseChildSpec(spec));
      if (v['children-file']) children.push(...(await loadChildrenFile(v['children-file'])));
      if (children.length === 0)
        throw usage(
          'name the children: --child platform_id=…[,metadata.KEY=…] (repeatable) or --children-file FILE',
        );
      const body = { at_state: at, children };
      const key = v['idempotency-key'] ?? forkKey(parent, body);
      const { answer, replayed } = await fork(ctx.client(), parent, body, key);
      if (!ctx.quiet)
        process.stderr.write(
          `${replayed ? 'the same fork again: its children, as made then' : `forked ${parent} at ${at}`}: ${answer.children.length} children (fork ${answer.fork_id}, Idempotency-Key ${key})\n`,
        );
      if (ctx.quiet) for (const c of answer.children) process.stdout.write(`${c.id}\n`);
      else if (ctx.output === 'json') printJson(answer);
      else
        printTable(
          answer.children,
          childColumns(await platformsFor(ctx.client(), answer.children)),
          ctx.style,
          { wide: ctx.wide },
        );
      return EXIT.ok;
    },
  }),
];

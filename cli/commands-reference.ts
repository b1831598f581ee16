/**
 * Reference data: `project|platform|os-version|image-type` × `create|list|get|update|delete|restore`.
 * Flags are the API's fields (`--cloud-provider` for cloud_provider). A create that finds the same
 * item already there (same id, same values) succeeds, so setup scripts can run twice.
 */
import { REFERENCE_KINDS, type ReferenceKind } from '../lib/reference/reference.model';
import { slugFor } from '../lib/reference/slug';
import { ApiError } from './client';
import {
  allPages,
  type Command,
  compact,
  defineCommand,
  int,
  type OptionSpec,
  one,
  seg,
  show,
} from './command';
import { EXIT, usage } from './errors';
import { type Column, col, printJson, printTable } from './output';

type Item = Record<string, unknown> & { id: string; active?: boolean };

/** Fields each kind has besides id, name and description, as flags. */
const SPECIFIC: Record<ReferenceKind['type'], Record<string, OptionSpec>> = {
  project: {},
  platform: {
    'cloud-provider': {
      type: 'string',
      description: 'aws, azure, gcp, oci, alibaba, openstack, vsphere or other (required to create)',
    },
    region: { type: 'string', description: 'e.g. us-east-1, westeurope' },
    partition: {
      type: 'string',
      description: 'e.g. aws-us-gov, aws-cn, azure-us-government (none: commercial)',
    },
    'hourly-cost': {
      type: 'string',
      description: "price of a worker hour, e.g. 0.096 (prices its builds' attempts; a worker's own wins)",
    },
    currency: { type: 'string', description: 'ISO 4217 code of --hourly-cost (default USD)' },
  },
  os_version: { version: { type: 'string', description: 'e.g. 22.04, 9.3 (required to create)' } },
  image_type: {},
};

const EXAMPLE: Record<ReferenceKind['type'], { create: string; id: string }> = {
  project: { create: '--name "rhel-9-base" --description "RHEL 9 base images"', id: 'rhel-9' },
  platform: {
    create: '--name "Production AWS" --cloud-provider aws --region us-east-1',
    id: 'aws-commercial',
  },
  os_version: { create: '--name "Ubuntu" --version "22.04"', id: 'rhel-9.3' },
  image_type: { create: '--name "web-server" --description "Nginx web server"', id: 'rhel8' },
};

const COLUMNS: Record<ReferenceKind['type'], Column<Item>[]> = {
  project: [],
  platform: [
    col('cloud_provider', 'CLOUD'),
    col('region', 'REGION'),
    col('partition', 'PARTITION'),
    { header: 'HOURLY', value: (p) => (p.hourly_cost ? `${p.hourly_cost} ${p.currency}` : '-'), right: true },
  ],
  os_version: [col('version', 'VERSION')],
  image_type: [],
};

const noun = (kind: ReferenceKind) => kind.path.replace(/s$/, '');
const field = (flag: string) => flag.replace(/-/g, '_');

function body(kind: ReferenceKind, v: Record<string, string | boolean | undefined>, withId: boolean) {
  const fields: Record<string, unknown> = {
    ...(withId ? { id: v.id } : {}),
    name: v.name,
    description: v.description,
  };
  for (const flag of Object.keys(SPECIFIC[kind.type])) fields[field(flag)] = v[flag];
  return compact(fields);
}

function commandsFor(kind: ReferenceKind): Command[] {
  const word = noun(kind);
  const base = `/${kind.path}`;
  const ex = EXAMPLE[kind.type];
  const fieldOptions = {
    name: { type: 'string', description: 'display name (required to create)' },
    description: { type: 'string', description: 'free text' },
    ...SPECIFIC[kind.type],
  } as Record<string, OptionSpec>;
  const columns: Column<Item>[] = [
    col('id', 'ID', { min: 8 }),
    col('name', 'NAME'),
    ...COLUMNS[kind.type],
    col('description', 'DESCRIPTION'),
    {
      header: 'ACTIVE',
      value: (i) => (i.active ? 'yes' : 'no'),
      paint: (i) => (i.active ? undefined : 'dim'),
    },
  ];
  return [
    defineCommand({
      path: [word, 'create'],
      summary: `Create ${kind.article} ${kind.label} (id: --id, else the name${kind.type === 'os_version' ? ' and version' : ''} as a slug)`,
      options: {
        id: { type: 'string', description: `the ${kind.label}'s id (default: from the name)` },
        ...fieldOptions,
      },
      examples: [`bldst ${word} create ${ex.create}`],
      async run(ctx, v) {
        const fields = body(kind, v, true);
        let item: Item;
        try {
          item = await ctx.client().post<Item>(base, fields);
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 'already_exists')) throw error;
          // Already there with exactly these values: done (a setup script run twice). Else a conflict.
          const id =
            (fields.id as string | undefined) ?? slugFor(fields as { name: string; version?: string });
          const existing = await ctx.client().get<Item>(`${base}/${seg(id)}`);
          const same =
            existing.active &&
            Object.entries(fields).every(([k, value]) => k === 'id' || existing[k] === value);
          if (!same) throw error;
          if (!ctx.quiet)
            process.stderr.write(`bldst: ${kind.label} '${id}' already exists with these values\n`);
          item = existing;
        }
        show(ctx, item, item.id);
        return EXIT.ok;
      },
    }),
    defineCommand({
      path: [word, 'list'],
      summary: `List ${kind.label}s (active ones, or all with --include-deactivated)`,
      options: {
        'include-deactivated': { type: 'boolean', description: 'also deactivated ones' },
      },
      examples: [`bldst ${word} list`, `bldst ${word} list --output json | jq -r '.[].id'`],
      async run(ctx, v) {
        const items = await allPages<Item>(
          ctx.client(),
          `${base}${v['include-deactivated'] ? '?include_deactivated=true' : ''}`,
        );
        if (ctx.quiet) for (const i of items) process.stdout.write(`${i.id}\n`);
        else if (ctx.output === 'json') printJson(items);
        else printTable(items, columns, ctx.style, { wide: ctx.wide, empty: `no ${kind.label}s` });
        return EXIT.ok;
      },
    }),
    defineCommand({
      path: [word, 'get'],
      args: '<id>',
      summary: `Show one ${kind.label} (deactivated or not)`,
      examples: [`bldst ${word} get ${ex.id}`],
      async run(ctx, _v, p) {
        show(ctx, await ctx.client().get<Item>(`${base}/${seg(one(p, `${kind.label} id`))}`));
        return EXIT.ok;
      },
    }),
    defineCommand({
      path: [word, 'update'],
      args: '<id>',
      summary: `Change fields of ${kind.article} ${kind.label} (the others stay)`,
      options: {
        ...fieldOptions,
        'if-match': { type: 'string', description: 'apply only if the item is at this version' },
      },
      examples: [`bldst ${word} update ${ex.id} --description "kept for 90 days"`],
      async run(ctx, v, p) {
        const id = one(p, `${kind.label} id`);
        const fields = body(kind, v, false);
        if (Object.keys(fields).length === 0) throw usage('name at least one field to change');
        const ifMatch = int(v['if-match'], '--if-match');
        const item = await ctx
          .client()
          .request<Item>(
            'PUT',
            `${base}/${seg(id)}`,
            fields,
            ifMatch === undefined ? {} : { 'if-match': `"${ifMatch}"` },
          );
        show(ctx, item, item.id);
        return EXIT.ok;
      },
    }),
    defineCommand({
      path: [word, 'delete'],
      args: '<id>',
      summary: `Deactivate ${kind.article} ${kind.label} (soft delete: new builds cannot name it; restore undoes it)`,
      examples: [`bldst ${word} delete ${ex.id}`],
      async run(ctx, _v, p) {
        const item = await ctx.client().request<Item>('DELETE', `${base}/${seg(one(p, `${kind.label} id`))}`);
        show(ctx, item, item.id);
        return EXIT.ok;
      },
    }),
    defineCommand({
      path: [word, 'restore'],
      args: '<id>',
      summary: `Reactivate a deactivated ${kind.label}`,
      examples: [`bldst ${word} restore ${ex.id}`],
      async run(ctx, _v, p) {
        const item = await ctx.client().post<Item>(`${base}/${seg(one(p, `${kind.label} id`))}/restore`);
        show(ctx, item, item.id);
        return EXIT.ok;
      },
    }),
  ];
}

export const REFERENCE_COMMANDS: Command[] = REFERENCE_KINDS.flatMap(commandsFor);

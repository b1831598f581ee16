/**
 * `bldst image …`, `bldst channel …` and `bldst build revoke|restore|lineage`: which image to use,
 * where it came from, and revocation that reaches every descendant (docs/CLI.md).
 */
import { randomUUID } from 'node:crypto';
import { type Command, compact, defineCommand, json, one, seg, show } from './command';
import { EXIT, usage } from './errors';
import { col, printJson, printTable, statusPaint } from './output';

interface Image {
  build_id: string;
  cloud: string;
  region: string;
  image_id: string;
  name: string | null;
  account: string | null;
  published_at: string;
  [k: string]: unknown;
}
interface Channel {
  name: string;
  build_id: string;
  images: Image[];
  assigned_at: string;
  assigned_by: string;
  reason: string | null;
  version: number;
  [k: string]: unknown;
}
type Row = Record<string, unknown>;

const IMAGE_COLUMNS = [
  col<Image>('cloud', 'CLOUD'),
  col<Image>('region', 'REGION'),
  col<Image>('image_id', 'IMAGE', { whole: true }),
  col<Image>('name', 'NAME', { drop: 1 }),
  col<Image>('build_id', 'BUILD', { drop: 2 }),
  col<Image>('published_at', 'PUBLISHED', { drop: 3 }),
];

/** Follows a list's cursors to the end. */
async function allPages<T>(
  get: (cursor: string | null) => Promise<{ items: T[]; next_cursor: string | null }>,
) {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await get(cursor);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

export const LINEAGE_COMMANDS: Command[] = [
  defineCommand({
    path: ['image', 'add'],
    args: '<build-id>',
    summary: 'Record an image the build published (an AMI, an Azure image version, a GCE image …)',
    options: {
      cloud: { type: 'string', description: 'aws, azure, gcp, openstack … (required)' },
      region: { type: 'string', description: 'us-east-1, westeurope … (required)' },
      'image-id': { type: 'string', description: 'the image id, e.g. ami-0abc… (required)' },
      name: { type: 'string', description: 'the image name' },
      account: { type: 'string', description: 'the account, subscription or project that owns it' },
      metadata: { type: 'string', description: 'JSON object' },
    },
    examples: ['bldst image add $BUILD_ID --cloud aws --region us-east-1 --image-id ami-0abc123'],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      if (!v.cloud || !v.region || !v['image-id'])
        throw usage('--cloud, --region and --image-id are required');
      const image = await ctx.client().post<Image>(
        `/builds/${seg(id)}/images`,
        compact({
          cloud: v.cloud,
          region: v.region,
          image_id: v['image-id'],
          name: v.name,
          account: v.account,
          metadata: json(v.metadata, '--metadata'),
        }),
      );
      show(ctx, image, image.image_id);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['image', 'list'],
    args: '<build-id>',
    summary: "List a build's published images",
    examples: ['bldst image list $BUILD_ID'],
    async run(ctx, _v, p) {
      const list = await ctx.client().get<{ items: Image[] }>(`/builds/${seg(one(p, 'build id'))}/images`);
      if (ctx.quiet) for (const i of list.items) process.stdout.write(`${i.image_id}\n`);
      else if (ctx.output === 'json') printJson(list.items);
      else printTable(list.items, IMAGE_COLUMNS, ctx.style, { wide: ctx.wide });
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['channel', 'set'],
    args: '<channel> <build-id>',
    summary: 'Point a channel at a completed build (promote); refused for a revoked or unfinished build',
    options: { reason: { type: 'string', description: 'why (kept in the channel history)' } },
    examples: ['bldst channel set rhel9-base-prod $BUILD_ID --reason "passed CIS scan"'],
    async run(ctx, v, p) {
      if (p.length !== 2) throw usage('expected a channel name and a build id');
      const channel = await ctx
        .client()
        .request<Channel>('PUT', `/channels/${seg(p[0]!)}`, compact({ build_id: p[1], reason: v.reason }), {
          'idempotency-key': `bldst-${randomUUID()}`,
        });
      if (!ctx.quiet)
        process.stderr.write(`${channel.name} → ${channel.build_id} (assignment ${channel.version})\n`);
      show(ctx, { ...channel, images: channel.images.length }, channel.build_id);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['channel', 'get'],
    args: '<channel>',
    summary:
      'The build a channel points at and its images; exits 3 with the reason when the build is revoked',
    options: {
      cloud: { type: 'string', description: 'only the image of this cloud' },
      region: { type: 'string', description: 'only the image of this region (with -q: print only its id)' },
    },
    examples: [
      'bldst channel get rhel9-base-prod',
      'AMI=$(bldst channel get rhel9-base-prod --cloud aws --region us-east-1 -q)',
    ],
    async run(ctx, v, p) {
      const name = one(p, 'channel name');
      const query = new URLSearchParams(
        compact({ cloud: v.cloud, region: v.region }) as Record<string, string>,
      );
      const channel = await ctx
        .client()
        .get<Channel>(`/channels/${seg(name)}${query.size ? `?${query}` : ''}`);
      const narrowed = v.cloud !== undefined || v.region !== undefined;
      if (ctx.quiet) {
        // Scripts: the image id when narrowed to one image, else the build id.
        process.stdout.write(`${narrowed ? channel.images[0]!.image_id : channel.build_id}\n`);
      } else if (ctx.output === 'json') printJson(channel);
      else {
        show(ctx, { ...channel, images: channel.images.length });
        if (channel.images.length) printTable(channel.images, IMAGE_COLUMNS, ctx.style, { wide: ctx.wide });
      }
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['channel', 'list'],
    summary: 'List channels and the build each points at',
    examples: ['bldst channel list'],
    async run(ctx) {
      const list = await ctx.client().get<{ items: Row[] }>('/channels');
      if (ctx.quiet) for (const c of list.items) process.stdout.write(`${c.name}\n`);
      else if (ctx.output === 'json') printJson(list.items);
      else
        printTable(
          list.items,
          [
            col('name', 'CHANNEL'),
            col('build_id', 'BUILD', { whole: true }),
            col('version', 'ASSIGNMENTS', { right: true, drop: 2 }),
            col('assigned_at', 'ASSIGNED', { drop: 1 }),
            col('assigned_by', 'BY', { drop: 3 }),
          ],
          ctx.style,
          { wide: ctx.wide },
        );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['channel', 'history'],
    args: '<channel>',
    summary: 'Every assignment of a channel, oldest first',
    examples: ['bldst channel history rhel9-base-prod'],
    async run(ctx, _v, p) {
      const name = seg(one(p, 'channel name'));
      const items = await allPages<Row>((cursor) =>
        ctx.client().get(`/channels/${name}/history?limit=500${cursor ? `&cursor=${seg(cursor)}` : ''}`),
      );
      if (ctx.quiet) for (const h of items) process.stdout.write(`${h.build_id}\n`);
      else if (ctx.output === 'json') printJson(items);
      else
        printTable(
          items,
          [
            col('version', '#', { right: true }),
            col('build_id', 'BUILD', { whole: true }),
            col('previous_build_id', 'PREVIOUS', { drop: 2 }),
            col('assigned_at', 'ASSIGNED'),
            col('assigned_by', 'BY', { drop: 3 }),
            col('reason', 'REASON', { drop: 1 }),
          ],
          ctx.style,
          { wide: ctx.wide },
        );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['build', 'revoke'],
    args: '<build-id>',
    summary: 'Revoke a build and every descendant (admin); run it again to finish an interrupted one',
    options: {
      reason: { type: 'string', description: 'why (required; shown to everyone who asks for it)' },
      'idempotency-key': { type: 'string', description: 'default: one per call, reused by its retries' },
    },
    examples: ['bldst build revoke $BUILD_ID --reason "CVE-2026-1234 in openssl"'],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      if (!v.reason) throw usage('--reason is required');
      const answer = await ctx
        .client()
        .post<Row>(
          `/builds/${seg(id)}/revoke`,
          { reason: v.reason },
          v['idempotency-key'] ? { 'idempotency-key': v['idempotency-key'] } : {},
        );
      if (!ctx.quiet)
        process.stderr.write(
          `revoked ${id} and its ${answer.descendants} descendants (${answer.newly_revoked} newly, ${answer.already_revoked} already)\n`,
        );
      show(ctx, answer, answer.revocation_id);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['build', 'restore'],
    args: '<build-id>',
    summary: "Undo a build's revocation, on it and the descendants that revocation marked (admin)",
    options: { reason: { type: 'string', description: 'why' } },
    examples: ['bldst build restore $BUILD_ID --reason "false positive"'],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      const answer = await ctx
        .client()
        .post<Row>(`/builds/${seg(id)}/restore`, compact({ reason: v.reason }));
      if (!ctx.quiet)
        process.stderr.write(
          `restored ${answer.restored} build(s)${answer.still_revoked ? `; ${answer.still_revoked} stay revoked by another revocation` : ''}\n`,
        );
      show(ctx, answer, answer.restored);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['build', 'lineage'],
    args: '<build-id>',
    summary: 'Ancestors and descendants of a build (fork parents and children, bases and builds on them)',
    examples: ['bldst build lineage $BUILD_ID', 'bldst build lineage $BUILD_ID -o json'],
    async run(ctx, _v, p) {
      const id = seg(one(p, 'build id'));
      let ancestors: Row[] = [];
      const descendants = await allPages<Row>(async (cursor) => {
        const page = await ctx
          .client()
          .get<{ ancestors: Row[]; descendants: Row[]; next_cursor: string | null }>(
            `/builds/${id}/lineage?limit=1000${cursor ? `&cursor=${seg(cursor)}` : ''}`,
          );
        ancestors = page.ancestors;
        return { items: page.descendants, next_cursor: page.next_cursor };
      });
      const rows: Row[] = [
        ...ancestors.map((a) => ({ ...a, relation: 'ancestor' })),
        ...descendants.map((d) => ({ ...d, relation: 'descendant' })),
      ];
      if (ctx.quiet) for (const r of rows) process.stdout.write(`${r.build_id}\n`);
      else if (ctx.output === 'json') printJson({ build_id: one(p, 'build id'), ancestors, descendants });
      else
        printTable(
          rows,
          [
            col('relation', 'RELATION'),
            col('build_id', 'BUILD', { whole: true }),
            col('parent_id', 'PARENT', { drop: 2 }),
            col('base_build_id', 'BASE', { drop: 2 }),
            {
              header: 'STATUS',
              value: (r) => r.status,
              paint: (r) => statusPaint(r.status as string),
              min: 11,
            },
            {
              header: 'REVOKED',
              value: (r) => (r.revoked_at ? `yes: ${r.revoked_reason}` : 'no'),
              paint: (r) => (r.revoked_at ? 'red' : undefined),
            },
          ],
          ctx.style,
          { wide: ctx.wide },
        );
      return EXIT.ok;
    },
  }),
];

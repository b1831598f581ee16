/**
 * Images, lineage and channels. A channel names the build to use; reading it answers the build's
 * published images, and refuses (409 `revoked`) when the build, one of its ancestors or, for a
 * fan-out parent, one of its children is revoked. An assignment commits with a check of the same
 * markers, so it cannot land on a build revoked while it ran.
 */
import type { Principal } from '../auth/principal';
import type { Build } from '../builds/build.model';
import type { BuildRepository } from '../builds/build.repository';
import { decodeCursor, encodeCursor } from '../db/cursor';
import { MAX_TRANSACTION_ITEMS, type TransactItem, Transaction } from '../db/transaction';
import { AppError, notFound } from '../errors';
import { DETAIL_TYPES } from '../events/events';
import { type IdempotencyRequest, idempotencyMismatch } from '../idempotency/idempotency';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository';
import { backoffMs, sleep } from '../retry';
import type { MutationOptions, Outcome } from '../use-case';
import { CHANNEL_HISTORY_SK_PATTERN, channelKey, DESCENDANT_SK_PATTERN, descendantKey } from './lineage.keys';
import type {
  ChannelHistoryRecord,
  ChannelRecord,
  ImageRecord,
  LineageRepository,
  Marker,
} from './lineage.repository';
import type {
  ChannelGetQuery,
  ChannelHistoryQuery,
  ChannelSetInput,
  ImageInput,
  LineageQuery,
} from './lineage.schema';
import type { ChannelView, ImageView, LineageNode } from './lineage.view';
import { firstRevoked, revokedError } from './revocation.rules';

export interface LineageServiceDeps {
  builds: BuildRepository;
  lineage: LineageRepository;
  idempotency: IdempotencyRepository;
  clock?: () => Date;
}

/** Fork children of one build read for its family (the children of up to 10 forks of 100). */
const MAX_FAMILY = 1000;
const MAX_ATTEMPTS_ON_RACE = 10;

/** A build and everything whose revocation makes it unusable: itself, its ancestors, its fork children. */
interface Family {
  build: Build;
  ancestors: string[];
  children: Build[];
}

export class LineageService {
  private readonly clock: () => Date;

  constructor(private readonly deps: LineageServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  // --- images -------------------------------------------------------------------------------

  /** Records a published image; the same image again answers the record (200) and changes nothing. */
  async addImage(buildId: string, input: ImageInput, actor: Principal): Promise<Outcome> {
    await this.load(buildId);
    const image: ImageRecord = {
      build_id: buildId,
      cloud: input.cloud,
      region: input.region,
      image_id: input.image_id,
      name: input.name ?? null,
      account: input.account ?? null,
      metadata: input.metadata,
      published_at: this.clock().toISOString(),
      published_by: actor.id,
    };
    const detail = {
      dedup_key: `${buildId}:image:${image.cloud}:${image.region}:${image.image_id}`,
      build_id: buildId,
      cloud: image.cloud,
      region: image.region,
      image_id: image.image_id,
      name: image.name,
      account: image.account,
      published_by: image.published_by,
      occurred_at: image.published_at,
    };
    const tx = new Transaction();
    for (const [name, part] of Object.entries(
      this.deps.lineage.imageParts(image, DETAIL_TYPES.imagePublished, detail),
    ))
      tx.add(name, part);
    const result = await this.deps.builds.commit(tx);
    if (result.committed) return { outcome: 'created', body: imageView(image), replayed: false };
    const existing = await this.deps.lineage.image(buildId, image.cloud, image.region, image.image_id);
    if (!existing)
      throw new AppError('conflict', 'The image is being recorded by another request; retry', {});
    return { outcome: 'unchanged', body: imageView(existing), replayed: false };
  }

  async images(buildId: string): Promise<Outcome> {
    await this.load(buildId);
    const items = await this.deps.lineage.images(buildId);
    return { body: { build_id: buildId, items: items.map(imageView) }, replayed: false };
  }

  // --- lineage ------------------------------------------------------------------------------

  async lineageOf(buildId: string, query: LineageQuery): Promise<Outcome> {
    await this.load(buildId);
    const ancestorIds = (await this.deps.lineage.ancestry(buildId))?.ancestors ?? [];
    const cursorQuery = { lineage: buildId };
    const start = query.cursor
      ? decodeCursor(query.cursor, cursorQuery, {
          pk: descendantKey(buildId, '').pk,
          sk: DESCENDANT_SK_PATTERN,
        })
      : undefined;
    const page = await this.deps.lineage.descendants(buildId, query.limit, start);
    const ids = [...ancestorIds, ...page.items.map((d) => d.build_id)];
    const [builds, markers] = await Promise.all([
      this.deps.builds.getMany(ids),
      this.deps.lineage.markers(ids),
    ]);
    const byId = new Map(builds.map((b) => [b.id, b]));
    const node = (id: string): LineageNode[] => {
      const b = byId.get(id);
      if (!b) return [];
      const m = markers.get(id);
      return [
        {
          build_id: id,
          parent_id: b.parent_id ?? null,
          base_build_id: b.base_build_id ?? null,
          status: b.status,
          revoked_at: m?.revoked_at ?? null,
          revoked_reason: m?.revoked_at ? (m.reason ?? null) : null,
        },
      ];
    };
    return {
      body: {
        build_id: buildId,
        ancestors: ancestorIds.flatMap(node),
        descendants: page.items.flatMap((d) => node(d.build_id)),
        next_cursor: page.next ? encodeCursor(page.next, cursorQuery) : null,
      },
      replayed: false,
    };
  }

  // --- channels -----------------------------------------------------------------------------

  /**
   * PUT /channels/{name}: points the channel at a build that completed (a fan-out parent: whose
   * fork children all completed) and that nothing revokes. The assignment, its history entry, its
   * event and a check of every marker that would make the build revoked commit together.
   */
  async assign(
    name: string,
    input: ChannelSetInput,
    actor: Principal,
    opts: MutationOptions = {},
  ): Promise<Outcome> {
    const replay = await this.replay(opts.idempotency);
    if (replay) return replay;
    const family = await this.family(input.build_id);
    await this.assertNotRevoked(family);
    assertCompleted(family);
    const watched = [family.build.id, ...family.ancestors, ...family.children.map((c) => c.id)];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_ON_RACE; attempt++) {
      const before = await this.deps.lineage.channel(name);
      const entry: ChannelHistoryRecord = {
        name,
        build_id: input.build_id,
        version: (before?.version ?? 0) + 1,
        reason: input.reason ?? null,
        assigned_at: this.clock().toISOString(),
        assigned_by: actor.id,
        previous_build_id: before?.build_id ?? null,
      };
      const detail = {
        dedup_key: `channel:${name}:${entry.version}`,
        channel: name,
        version: entry.version,
        build_id: entry.build_id,
        previous_build_id: entry.previous_build_id,
        reason: entry.reason,
        assigned_by: entry.assigned_by,
        occurred_at: entry.assigned_at,
      };
      const view = await this.channelView(entry, family);
      const response = { body: view };
      const tx = new Transaction();
      const parts: Record<string, TransactItem | undefined> = {
        ...this.deps.lineage.assignParts(entry, before, DETAIL_TYPES.channelUpdated, detail),
        idempotency: opts.idempotency
          ? this.deps.idempotency.transactPut(opts.idempotency, response, this.nowEpoch())
          : undefined,
      };
      for (const [part, item] of Object.entries(parts)) tx.add(part, item);
      // Every marker fits beside the assignment's own parts in all but huge families; the rest
      // were read just above (a child's revocation after this read shows on every GET anyway).
      for (const id of watched.slice(0, MAX_TRANSACTION_ITEMS - tx.size))
        tx.add(`unrevoked:${id}`, this.deps.lineage.unrevokedCheck(id));
      const result = await this.deps.builds.commit(tx);
      if (result.committed) return { ...response, replayed: false };
      if (result.failed.has('idempotency')) {
        const again = await this.replay(opts.idempotency);
        if (again) return again;
      }
      const revoked = [...result.failed].find((p) => p.startsWith('unrevoked:'));
      if (revoked) {
        const id = revoked.slice('unrevoked:'.length);
        throw revokedError(input.build_id, id, await this.deps.lineage.marker(id));
      }
      await sleep(backoffMs(attempt, { baseMs: 5, capMs: 200 }));
    }
    throw new AppError('conflict', `Channel '${name}' is changing too fast; retry`, { channel: name });
  }

  /** GET /channels/{name}: the build it points at and its images; 409 `revoked` if anything revokes it. */
  async get(name: string, query: ChannelGetQuery): Promise<Outcome> {
    const channel = await this.deps.lineage.channel(name);
    if (!channel) throw notFound('channel', name);
    const family = await this.family(channel.build_id);
    await this.assertNotRevoked(family);
    const view = await this.channelView(channel, family);
    if (query.cloud !== undefined || query.region !== undefined) {
      const match = view.images
        .filter(
          (i) =>
            (query.cloud === undefined || i.cloud === query.cloud) &&
            (query.region === undefined || i.region === query.region),
        )
        .sort((a, b) => b.published_at.localeCompare(a.published_at));
      if (match.length === 0)
        throw new AppError(
          'not_found',
          `Channel '${name}' points at build '${channel.build_id}', which has no image${query.cloud ? ` in cloud ${query.cloud}` : ''}${query.region ? ` in region ${query.region}` : ''}`,
          {
            channel: name,
            build_id: channel.build_id,
            cloud: query.cloud ?? null,
            region: query.region ?? null,
          },
        );
      view.images = [match[0]!];
    }
    return { body: view, replayed: false };
  }

  async list(): Promise<Outcome> {
    const channels = (await this.deps.lineage.channels()).sort((a, b) => a.name.localeCompare(b.name));
    return {
      body: {
        items: channels.map((c) => ({
          name: c.name,
          build_id: c.build_id,
          assigned_at: c.assigned_at,
          assigned_by: c.assigned_by,
          version: c.version,
        })),
        next_cursor: null,
      },
      replayed: false,
    };
  }

  async history(name: string, query: ChannelHistoryQuery): Promise<Outcome> {
    if (!(await this.deps.lineage.channel(name))) throw notFound('channel', name);
    const cursorQuery = { channel_history: name };
    const start = query.cursor
      ? decodeCursor(query.cursor, cursorQuery, { pk: channelKey(name).pk, sk: CHANNEL_HISTORY_SK_PATTERN })
      : undefined;
    const page = await this.deps.lineage.channelHistory(name, query.limit, start);
    return {
      body: {
        name,
        items: page.items.map((h) => ({
          name: h.name,
          version: h.version,
          build_id: h.build_id,
          previous_build_id: h.previous_build_id,
          reason: h.reason,
          assigned_at: h.assigned_at,
          assigned_by: h.assigned_by,
        })),
        next_cursor: page.next ? encodeCursor(page.next, cursorQuery) : null,
      },
      replayed: false,
    };
  }

  // --- helpers ------------------------------------------------------------------------------

  /** The build, its ancestors and its fork children (direct descendants whose parent it is). */
  private async family(buildId: string): Promise<Family> {
    const build = await this.load(buildId);
    const ancestors = (await this.deps.lineage.ancestry(buildId))?.ancestors ?? [];
    const childIds = await this.deps.lineage.forkChildren(buildId, MAX_FAMILY);
    const children = await this.deps.builds.getMany(childIds);
    return { build, ancestors, children: children.sort((a, b) => a.id.localeCompare(b.id)) };
  }

  private async assertNotRevoked(family: Family): Promise<void> {
    const { build, ancestors, children } = family;
    const ids = [build.id, ...ancestors, ...children.map((c) => c.id)];
    const markers: Map<string, Marker> = await this.deps.lineage.markers(ids);
    const revoked = firstRevoked(ids, markers);
    if (revoked) throw revokedError(build.id, revoked, markers.get(revoked));
  }

  private async channelView(channel: ChannelRecord, family: Family): Promise<ChannelView> {
    const images: ImageView[] = [];
    for (const b of [family.build, ...family.children])
      images.push(...(await this.deps.lineage.images(b.id)).map(imageView));
    return {
      name: channel.name,
      build_id: channel.build_id,
      images,
      assigned_at: channel.assigned_at,
      assigned_by: channel.assigned_by,
      reason: channel.reason,
      version: channel.version,
    };
  }

  private async load(id: string): Promise<Build> {
    const build = await this.deps.builds.get(id);
    if (!build) throw notFound('build', id);
    return build;
  }

  private nowEpoch = () => Math.floor(this.clock().getTime() / 1000);

  private async replay(req: IdempotencyRequest | undefined): Promise<Outcome | null> {
    if (!req) return null;
    const stored = await this.deps.idempotency.find(req, this.nowEpoch());
    if (!stored) return null;
    if (stored.fingerprint !== req.fingerprint) throw idempotencyMismatch(req.key);
    return { ...stored.result, replayed: true };
  }
}

/**
 * 409 `not_completed` unless the build completed; a fan-out parent is judged by its family: every
 * fork child completed (whatever status the parent itself shows, own or derived from them).
 */
function assertCompleted({ build, children }: Family): void {
  if (children.length > 0) {
    const pending = children.filter((c) => c.status !== 'completed');
    if (pending.length === 0) return;
    throw new AppError(
      'not_completed',
      `Build '${build.id}' is a fan-out parent and ${pending.length} of its ${children.length} children have not completed`,
      {
        build_id: build.id,
        status: build.status,
        children: children.length,
        not_completed: pending.slice(0, 20).map((c) => ({ build_id: c.id, status: c.status })),
      },
    );
  }
  if (build.status !== 'completed')
    throw new AppError('not_completed', `Build '${build.id}' has not completed (status ${build.status})`, {
      build_id: build.id,
      status: build.status,
    });
}

const imageView = (i: ImageRecord): ImageView => ({
  build_id: i.build_id,
  cloud: i.cloud,
  region: i.region,
  image_id: i.image_id,
  name: i.name,
  account: i.account,
  metadata: i.metadata,
  published_at: i.published_at,
  published_by: i.published_by,
});

/**
 * `source.channel` mode: versions are a channel's assignments (PUT /channels/{name}), so a job
 * with `trigger: true` runs on every promotion. `check` emits one version per assignment, oldest
 * first; `in` writes the assignment, its build and its images, and fails with the reason when the
 * build is revoked (a revoked image is never handed on, even for an older version).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, type Client } from '../../../cli/client';
import { type Metadata, seg } from './resource';

/** A channel version: the channel, the assignment's number (its history entry) and the build. */
export const channelVersionSchema = z.strictObject({
  channel: z.string(),
  assignment: z.string(),
  build_id: z.string(),
});
export type ChannelVersion = z.infer<typeof channelVersionSchema>;

interface Assignment {
  version: number;
  build_id: string;
  previous_build_id: string | null;
  reason: string | null;
  assigned_at: string;
  assigned_by: string;
}
interface Image {
  build_id: string;
  cloud: string;
  region: string;
  image_id: string;
  name: string | null;
}

async function assignments(client: Client, channel: string): Promise<Assignment[]> {
  const items: Assignment[] = [];
  let cursor: string | null = null;
  do {
    let page: { items: Assignment[]; next_cursor: string | null };
    try {
      page = await client.get(
        `/channels/${seg(channel)}/history?limit=500${cursor ? `&cursor=${seg(cursor)}` : ''}`,
      );
    } catch (error) {
      // A channel nobody assigned yet has no versions.
      if (error instanceof ApiError && error.status === 404) return [];
      throw error;
    }
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

const versionOf = (channel: string, a: Assignment): ChannelVersion => ({
  channel,
  assignment: String(a.version),
  build_id: a.build_id,
});

/** check: every assignment from `version` on (the latest alone without one, or if it is unknown). */
export async function channelCheck(
  client: Client,
  channel: string,
  version: ChannelVersion | null | undefined,
): Promise<ChannelVersion[]> {
  const versions = (await assignments(client, channel)).map((a) => versionOf(channel, a));
  if (!version) return versions.slice(-1);
  const from = versions.findIndex(
    (v) => v.assignment === version.assignment && v.build_id === version.build_id,
  );
  return from >= 0 ? versions.slice(from) : versions.slice(-1);
}

/**
 * in: channel.json (the assignment), build.json, images.json (the build's images and, for a fan-out
 * parent, its children's); with `params.cloud`/`params.region`, `image_id` holds the one image's id.
 */
export async function channelIn(
  client: Client,
  dest: string,
  version: ChannelVersion,
  params: { cloud?: string; region?: string },
): Promise<{ version: ChannelVersion; metadata: Metadata }> {
  const entry = (await assignments(client, version.channel)).find(
    (a) => String(a.version) === version.assignment,
  );
  if (!entry || entry.build_id !== version.build_id)
    throw new Error(
      `channel ${version.channel} has no assignment ${version.assignment} of build ${version.build_id}`,
    );
  // The channel's current answer checks every revocation that reaches the build (its own, an
  // ancestor's, a fan-out child's); an older assignment's build is checked by reading it.
  const current = await client.get<{ version: number; images: Image[] }>(`/channels/${seg(version.channel)}`);
  let images: Image[];
  if (current.version === entry.version) images = current.images;
  else {
    const build = await client.get<{ revoked_at?: string; revoked_reason?: string }>(
      `/builds/${seg(entry.build_id)}`,
    );
    if (build.revoked_at)
      throw new Error(`revoked: build '${entry.build_id}' is revoked: ${build.revoked_reason ?? ''}`);
    const lineage = await client.get<{
      ancestors: { build_id: string; revoked_at: string | null; revoked_reason: string | null }[];
    }>(`/builds/${seg(entry.build_id)}/lineage?limit=1`);
    const revoked = lineage.ancestors.find((a) => a.revoked_at);
    if (revoked)
      throw new Error(
        `revoked: build '${entry.build_id}' descends from revoked build '${revoked.build_id}': ${revoked.revoked_reason ?? ''}`,
      );
    images = (await client.get<{ items: Image[] }>(`/builds/${seg(entry.build_id)}/images`)).items;
  }
  const build = await client.get(`/builds/${seg(entry.build_id)}`);
  writeFileSync(
    join(dest, 'channel.json'),
    `${JSON.stringify({ channel: version.channel, ...entry }, null, 2)}\n`,
  );
  writeFileSync(join(dest, 'build.json'), `${JSON.stringify(build, null, 2)}\n`);
  writeFileSync(join(dest, 'images.json'), `${JSON.stringify(images, null, 2)}\n`);
  if (params.cloud !== undefined || params.region !== undefined) {
    const match = images.filter(
      (i) =>
        (params.cloud === undefined || i.cloud === params.cloud) &&
        (params.region === undefined || i.region === params.region),
    );
    if (match.length === 0)
      throw new Error(
        `build ${entry.build_id} has no image${params.cloud ? ` in cloud ${params.cloud}` : ''}${params.region ? ` in region ${params.region}` : ''}`,
      );
    writeFileSync(join(dest, 'image_id'), `${match[0]!.image_id}\n`);
  }
  return {
    version,
    metadata: [
      { name: 'channel', value: version.channel },
      { name: 'assignment', value: version.assignment },
      { name: 'build', value: entry.build_id },
      { name: 'assigned_by', value: entry.assigned_by },
      { name: 'assigned_at', value: entry.assigned_at },
      { name: 'reason', value: entry.reason ?? '' },
      { name: 'images', value: images.map((i) => `${i.cloud}/${i.region}:${i.image_id}`).join(', ') },
    ],
  };
}

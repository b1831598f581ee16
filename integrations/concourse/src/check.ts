/**
 * check: prints versions oldest first — with a version, that version (if it still exists) and every
 * newer one; without, only the latest. See ../README.md for the two kinds of source.
 */
import { z } from 'zod';
import type { Client } from '../../../cli/client';
import { channelCheck, channelVersionSchema } from './channel';
import {
  type BuildView,
  clientFor,
  history,
  isCompletion,
  main,
  readRequest,
  type Source,
  sourceSchema,
  type Version,
  versionOf,
  versionSchema,
} from './resource';

const requestSchema = z.object({
  source: sourceSchema,
  version: z.union([channelVersionSchema, versionSchema]).nullish(),
});

interface Dated {
  version: Version;
  at: string;
}

/** The build's completed states (only `state_code` when set), in the order they completed. */
async function buildVersions(client: Client, source: Source & { build_id: string }): Promise<Dated[]> {
  return (await history(client, source.build_id))
    .filter((item) => isCompletion(item, source.state_code))
    .map((item) => ({ version: versionOf(source.build_id, item), at: item.recorded_at }));
}

/** The newest `max_builds` builds matching the filters that completed `state_code`, by completion time. */
async function filteredVersions(client: Client, source: Source & { state_code: number }): Promise<Dated[]> {
  const query = new URLSearchParams({ limit: '100' });
  if (source.project_id) query.set('project_id', source.project_id);
  if (source.platform_id) query.set('platform_id', source.platform_id);
  const builds: BuildView[] = [];
  let cursor: string | null = null;
  do {
    if (cursor) query.set('cursor', cursor);
    const page: { items: BuildView[]; next_cursor: string | null } = await client.get(`/builds?${query}`);
    builds.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && builds.length < source.max_builds);
  // The list API filters by project and platform; the image type and the state are checked here.
  const candidates = builds
    .slice(0, source.max_builds)
    .filter((b) => !source.image_type_id || b.image_type_id === source.image_type_id)
    .filter((b) => (b.last_completed_state ?? -1) >= source.state_code);
  const found: Dated[] = [];
  for (const build of candidates) {
    const done = (await history(client, build.id)).find((item) => isCompletion(item, source.state_code));
    if (done) found.push({ version: versionOf(build.id, done), at: done.recorded_at });
  }
  return found.sort(
    (a, b) => a.at.localeCompare(b.at) || a.version.build_id.localeCompare(b.version.build_id),
  );
}

const same = (a: Version, b: Version) =>
  a.build_id === b.build_id && a.state_code === b.state_code && a.seq === b.seq;

main(async () => {
  const { source, version } = readRequest(requestSchema);
  const client = clientFor(source);
  if (source.channel !== undefined)
    return channelCheck(client, source.channel, version && 'channel' in version ? version : null);
  if (version && 'channel' in version) throw new Error('a channel version, but source has no channel');
  const all =
    source.build_id !== undefined
      ? await buildVersions(client, { ...source, build_id: source.build_id })
      : await filteredVersions(client, { ...source, state_code: source.state_code as number });
  const versions = all.map((d) => d.version);
  if (!version) return versions.slice(-1);
  const from = versions.findIndex((v) => same(v, version));
  // A version that no longer exists (e.g. the build is gone from the window): start again from the latest.
  return from >= 0 ? versions.slice(from) : versions.slice(-1);
});

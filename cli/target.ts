/**
 * What tells a fork's children apart in a table: the target the fork gave each child
 * (`metadata.cloud` / `metadata.region`), else its platform's partition (or cloud) and region. Six
 * children of one aws-commercial platform, one per region, read `us-east-1`, `eu-west-1`, …
 */
import type { Client } from './client';
import { allPages } from './command';
import type { Column } from './output';

export interface Platform {
  id: string;
  cloud_provider?: string | null;
  region?: string | null;
  partition?: string | null;
}

interface Labelled {
  platform_id: string;
  parent_id?: string | null;
  metadata?: unknown;
}

const text = (v: unknown) =>
  typeof v === 'string' && v.trim() ? v.trim() : typeof v === 'number' ? String(v) : '';

/** The label from the build's own metadata (`cloud/region`, either alone), or '' when it has none. */
export function metadataLabel(b: Labelled): string {
  const m = b.metadata && typeof b.metadata === 'object' ? (b.metadata as Record<string, unknown>) : {};
  return [text(m.cloud), text(m.region)].filter(Boolean).join('/');
}

/** The label of a platform: `partition-or-cloud/region`, or '' when it has no region. */
export function platformLabel(p: Platform | undefined): string {
  if (!p?.region) return '';
  return [p.partition || p.cloud_provider, p.region].filter(Boolean).join('/');
}

/** A build's target: its metadata's, else its platform's (when the platforms were fetched); null when neither says. */
export function targetLabel(b: Labelled, platforms?: Map<string, Platform>): string | null {
  return metadataLabel(b) || platformLabel(platforms?.get(b.platform_id)) || null;
}

/**
 * The platforms, only when some build needs one for its label (a fork child whose fork named no
 * region); a failure to list them leaves those labels empty rather than failing the command.
 */
export async function platformsFor(client: Client, builds: Labelled[]): Promise<Map<string, Platform>> {
  if (!builds.some((b) => b.parent_id && !metadataLabel(b))) return new Map();
  try {
    const items = await allPages<Platform>(client, '/platforms?include_deactivated=true');
    return new Map(items.map((p) => [p.id, p]));
  } catch {
    return new Map();
  }
}

/** The TARGET column of a table of builds: like an id, never cut (it is what tells children apart). */
export const targetColumn = <R extends Labelled>(platforms?: Map<string, Platform>): Column<R> => ({
  header: 'TARGET',
  value: (b) => targetLabel(b, platforms),
  whole: true,
});

/** Whether any of `builds` has a label (a table leaves the TARGET column out when none has). */
export const anyLabel = (builds: Labelled[], platforms?: Map<string, Platform>) =>
  builds.some((b) => targetLabel(b, platforms) !== null);

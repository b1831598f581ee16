/**
 * The images of a Packer manifest's last run, recorded as the build's published images
 * (POST /builds/{id}/images): what `bldst channel get` hands out once the build is promoted.
 * Recording the same image again is a no-op on the server, so a re-run records only what is new.
 */
import type { Client } from './client';
import type { PlannedArtifact } from './packer-manifest';

/** The cloud of a Packer builder type, for those that publish images; null for the rest. */
export function cloudOf(builderType: string): string | null {
  if (builderType.startsWith('amazon')) return 'aws';
  if (builderType.startsWith('azure')) return 'azure';
  if (builderType.startsWith('google')) return 'gcp';
  if (builderType.startsWith('openstack')) return 'openstack';
  if (builderType.startsWith('oracle')) return 'oracle';
  if (builderType.startsWith('vsphere')) return 'vsphere';
  return null;
}

export interface PlannedImage {
  cloud: string;
  region: string;
  image_id: string;
  metadata: Record<string, string>;
}

/** The image artifacts of a plan (those with an image id from a cloud builder), as images. */
export function imagesOf(planned: PlannedArtifact[]): PlannedImage[] {
  return planned.flatMap((a) => {
    const cloud = cloudOf(a.metadata.packer_builder ?? '');
    const imageId = a.metadata.image_id;
    if (!cloud || !imageId || a.file) return [];
    return [
      {
        cloud,
        region: a.metadata.region ?? 'global',
        image_id: imageId,
        metadata: {
          packer_builder: a.metadata.packer_builder!,
          ...(a.metadata.packer_build ? { packer_build: a.metadata.packer_build } : {}),
        },
      },
    ];
  });
}

/** Records the images the build does not have yet; returns those it recorded now. */
export async function recordImages(
  client: Client,
  buildId: string,
  images: PlannedImage[],
): Promise<PlannedImage[]> {
  if (images.length === 0) return [];
  const path = `/builds/${encodeURIComponent(buildId)}/images`;
  const key = (i: { cloud: string; region: string; image_id: string }) =>
    `${i.cloud}|${i.region}|${i.image_id}`;
  const have = new Set((await client.get<{ items: PlannedImage[] }>(path)).items.map(key));
  const missing = images.filter((i) => !have.has(key(i)));
  // The server records an image once anyway (a concurrent run gets the same record back).
  for (const image of missing) await client.post(path, image);
  return missing;
}

import { basename } from 'node:path';
import type { Client } from './client';
import { CliError, EXIT } from './errors';
import { downloadFile, fileDigest, uploadFile } from './transfer';

export interface ArtifactView {
  state_code: number;
  name: string;
  checksum: string | null;
  size_bytes: number | null;
  managed: boolean;
  uri: string;
  verified: boolean;
  upload?: { url: string; headers: Record<string, string> };
  download?: { url: string };
}

const seg = encodeURIComponent;

/** Registers a file as a managed artifact of a state, uploads it with its checksum, and verifies it. */
export async function uploadArtifact(
  client: Client,
  buildId: string,
  state: number,
  file: string,
  opts: { name?: string; format?: string } = {},
): Promise<ArtifactView> {
  const { checksum, size } = await fileDigest(file);
  const name = opts.name ?? basename(file);
  const registered = await client.post<ArtifactView>(`/builds/${seg(buildId)}/states/${state}/artifacts`, {
    name,
    storage_type: 's3',
    checksum,
    size_bytes: size,
    ...(opts.format ? { format: opts.format } : {}),
  });
  if (registered.upload) await uploadFile(registered.upload.url, registered.upload.headers, file);
  return client.post<ArtifactView>(`/builds/${seg(buildId)}/states/${state}/artifacts/${seg(name)}/verify`);
}

/** Downloads a managed artifact to `path` and checks it against the recorded checksum. */
export async function downloadArtifact(
  artifact: ArtifactView,
  path: string,
): Promise<{ checksum: string; size: number }> {
  if (!artifact.download) {
    throw new CliError(
      `artifact '${artifact.name}' is stored outside BuildState (${artifact.uri}); fetch it from there`,
      EXIT.usage,
      'external_artifact',
    );
  }
  const got = await downloadFile(artifact.download.url, path);
  if (artifact.checksum && got.checksum !== artifact.checksum) {
    throw new CliError(
      `checksum mismatch for ${artifact.name}: got ${got.checksum}, expected ${artifact.checksum}`,
      EXIT.conflict,
      'checksum_mismatch',
    );
  }
  return got;
}

import { randomBytes } from 'node:crypto';
import { accessSync, constants, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactNameSchema } from '../lib/artifacts/artifact.schema';
import { DEFAULT_PART_SIZE } from '../lib/artifacts/upload-plan';
import { ApiError, type Client } from './client';
import { type DownloadOptions, downloadChecked } from './download';
import { CliError, EXIT } from './errors';
import { timingMark } from './timings';
import { copyFileHashed, fileDigest, readableFileSize, uploadFile } from './transfer';
import { type MultipartOptions, uploadMultipart } from './upload';

export interface ArtifactView {
  state_code: number;
  name: string;
  checksum: string | null;
  size_bytes: number | null;
  managed: boolean;
  storage_type?: string;
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
  opts: {
    name?: string;
    format?: string;
    /** Files above it go as a multipart upload (cli/upload.ts); default 64 MiB. */
    partSize?: number;
    parallel?: number;
    onProgress?: (doneBytes: number, totalBytes: number, storedBefore?: number) => void;
    /** Multipart only: the read pass's progress, and notes ("resuming upload …") for stderr. */
    onReading?: MultipartOptions['onReading'];
    log?: MultipartOptions['log'];
    tracker?: MultipartOptions['tracker'];
  } = {},
): Promise<ArtifactView> {
  const name = checkedName(opts.name ?? basename(file));
  const fileSize = readableFileSize(file);
  if (fileSize > (opts.partSize ?? DEFAULT_PART_SIZE)) {
    try {
      const artifact = await uploadMultipart<ArtifactView>(client, buildId, state, file, fileSize, {
        ...opts,
        name,
      });
      timingMark('complete');
      return artifact;
    } catch (error) {
      // The same file uploaded and verified before: as idempotent as the single PUT path.
      if (!(error instanceof ApiError && error.code === 'artifact_exists' && verifiedAlready(error)))
        throw error;
      return client.post<ArtifactView>(
        `/builds/${seg(buildId)}/states/${state}/artifacts/${seg(name)}/verify`,
      );
    }
  }
  if (opts.tracker) opts.tracker.stage = 'single';
  const { checksum, size } = await fileDigest(file);
  const registered = await client.post<ArtifactView>(`/builds/${seg(buildId)}/states/${state}/artifacts`, {
    name,
    storage_type: 's3',
    checksum,
    size_bytes: size,
    ...(opts.format ? { format: opts.format } : {}),
  });
  if (registered.upload) await uploadFile(registered.upload.url, registered.upload.headers, file);
  opts.onProgress?.(size, size);
  return client.post<ArtifactView>(`/builds/${seg(buildId)}/states/${state}/artifacts/${seg(name)}/verify`);
}

/**
 * The artifact name checked here, before the file is read: the single PUT path sends it in a body
 * and the multipart path in a URL, and the service words its refusals of the two differently (the
 * URL's without the rule). Either way the user reads the naming rule, exit 2, nothing sent.
 */
export function checkedName(name: string): string {
  const checked = artifactNameSchema.safeParse(name);
  if (checked.success) return name;
  const shown = name.length > 60 ? `${name.slice(0, 40)}…' (${name.length} characters` : `${name}'`;
  throw new CliError(
    `artifact name '${shown}${name.length > 60 ? ')' : ''}: ${checked.error.issues[0]?.message ?? 'not a valid artifact name'}`,
    EXIT.usage,
    'validation_error',
  );
}

const verifiedAlready = (error: ApiError) =>
  (error.body.error?.details as { verified?: boolean } | undefined)?.verified === true;

/** External pointers a worker may read itself when the share is mounted. */
export const LOCAL_STORAGE_TYPES = new Set(['nfs', 'file']);

/**
 * Where an nfs/file pointer is on this machine: an absolute path or file:// URI as it is; an
 * nfs://host/export/… URI through $BLDST_NFS_MOUNTS (`nfs://filer01/images=/mnt/images`, comma-separated).
 */
export function localPathOf(a: Pick<ArtifactView, 'uri' | 'storage_type'>, env = process.env): string {
  if (a.uri.startsWith('/')) return a.uri;
  if (a.uri.startsWith('file://')) return fileURLToPath(a.uri);
  for (const entry of (env.BLDST_NFS_MOUNTS ?? '').split(',').filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const prefix = entry.slice(0, at).replace(/\/+$/, '');
    if (at > 0 && (a.uri === prefix || a.uri.startsWith(`${prefix}/`)))
      return join(entry.slice(at + 1), a.uri.slice(prefix.length));
  }
  throw new CliError(
    `artifact on ${a.storage_type} at ${a.uri}: no local path for it; mount the share and map it, e.g. BLDST_NFS_MOUNTS='${a.uri.split('/').slice(0, 4).join('/')}=/mnt/share'`,
    EXIT.usage,
    'external_artifact',
  );
}

/**
 * Fetches an artifact to `path` and checks it against the recorded checksum on the way: a managed
 * one from its download URL in parallel ranges that a re-run continues (cli/download.ts), an
 * nfs/file pointer from its path when this worker can read it (a mount). Either way the bytes go
 * to a temporary file beside `path`, renamed to it only when the checksum matches; on a mismatch
 * nothing is left at `path`.
 */
export async function downloadArtifact(
  artifact: ArtifactView,
  path: string,
  opts: DownloadOptions = {},
): Promise<{ checksum: string; size: number }> {
  if (artifact.download) {
    if (!artifact.checksum)
      throw new CliError(
        `artifact '${artifact.name}' has no recorded checksum, so it cannot be checked; it is not downloaded`,
        EXIT.conflict,
        'checksum_required',
      );
    return downloadChecked(
      artifact.download.url,
      path,
      { checksum: artifact.checksum, size: artifact.size_bytes },
      opts,
    );
  }
  if (!LOCAL_STORAGE_TYPES.has(artifact.storage_type ?? ''))
    throw new CliError(
      `artifact '${artifact.name}' is stored outside BuildState (${artifact.uri}); fetch it from there`,
      EXIT.usage,
      'external_artifact',
    );
  const source = localPathOf(artifact);
  try {
    accessSync(source, constants.R_OK);
  } catch (error) {
    throw new CliError(
      `artifact '${artifact.name}' is on ${artifact.storage_type} at ${source}, which this worker cannot read (${(error as NodeJS.ErrnoException).code}); mount the share here or fetch it from there`,
      EXIT.usage,
      'external_artifact',
    );
  }
  if (!artifact.checksum)
    throw new CliError(
      `artifact '${artifact.name}' (${source}) has no recorded checksum, so it cannot be checked; record one with bldst artifact verify --file`,
      EXIT.conflict,
      'checksum_required',
    );
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.part`);
  try {
    const got = await copyFileHashed(source, temp);
    if (got.checksum !== artifact.checksum) {
      throw new CliError(
        `checksum mismatch for ${artifact.name} (${source}): got ${got.checksum}, expected ${artifact.checksum}`,
        EXIT.conflict,
        'checksum_mismatch',
      );
    }
    renameSync(temp, path);
    return got;
  } finally {
    rmSync(temp, { force: true });
  }
}

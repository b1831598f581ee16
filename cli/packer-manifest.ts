/**
 * `bldst artifact add --from-packer-manifest FILE --state N`: registers what Packer's `manifest`
 * post-processor recorded for the last run. Cloud images (`artifact_id` such as
 * `us-east-1:ami-1,eu-west-1:ami-2`) become one artifact per region whose identity is the image
 * id (nothing to hash); files the build wrote are registered with their SHA-256 and size.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { type ArtifactView, uploadArtifact } from './artifacts';
import type { Client } from './client';
import { CliError, EXIT } from './errors';
import { fileDigest } from './transfer';

const manifestSchema = z.object({
  builds: z
    .array(
      z.object({
        name: z.string().optional(),
        builder_type: z.string(),
        build_time: z.number().optional(),
        files: z
          .array(z.object({ name: z.string().min(1), size: z.number().optional() }))
          .nullish()
          .transform((f) => f ?? []),
        artifact_id: z.string().nullish(),
        packer_run_uuid: z.string().nullish(),
        custom_data: z.record(z.string(), z.unknown()).nullish(),
      }),
    )
    .min(1),
  last_run_uuid: z.string().nullish(),
});
type ManifestBuild = z.infer<typeof manifestSchema>['builds'][number];

/** One artifact to register: an external pointer, or a file to upload with `upload`. */
export interface PlannedArtifact {
  name: string;
  storage_type: 'ebs' | 'azure_blob' | 'gcs' | 'other';
  uri: string;
  checksum?: string;
  size_bytes?: number;
  metadata: Record<string, string>;
  /** The local file, for files listed in the manifest. */
  file?: string;
}

const safeName = (s: string) =>
  s
    .replace(/[^A-Za-z0-9._+-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 200) || 'artifact';

/** Image ids Packer's builders report: `region:id` pairs, comma-separated, or one bare id. */
export function imageIds(artifactId: string): { region: string | null; id: string }[] {
  return artifactId
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([a-z]{2,}(?:-[a-z0-9]+)+):(.+)$/.exec(part);
      return m ? { region: m[1]!, id: m[2]! } : { region: null, id: part };
    });
}

function storageFor(builder: string): { type: PlannedArtifact['storage_type']; scheme: string } {
  if (builder.startsWith('amazon')) return { type: 'ebs', scheme: 'ec2' };
  if (builder.startsWith('azure')) return { type: 'azure_blob', scheme: 'azure' };
  if (builder.startsWith('google')) return { type: 'gcs', scheme: 'gce' };
  return { type: 'other', scheme: safeName(builder).toLowerCase() };
}

/** What the manifest's last run produced, as artifacts to register (files hashed here). */
export async function planFromManifest(file: string, cwd = process.cwd()): Promise<PlannedArtifact[]> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read ${file} as JSON: ${(error as Error).message}`, EXIT.usage, 'usage');
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success)
    throw new CliError(
      `${file} is not a Packer manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      EXIT.usage,
      'usage',
    );
  const { builds, last_run_uuid } = parsed.data;
  // The post-processor appends every run to the same file: only the last run's builds count.
  const current = last_run_uuid ? builds.filter((b) => b.packer_run_uuid === last_run_uuid) : builds;
  const planned: PlannedArtifact[] = [];
  for (const b of current.length ? current : builds.slice(-1))
    planned.push(...(await planBuild(b, file, cwd)));
  const names = planned.map((a) => a.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new CliError(`${file}: two artifacts would be named '${dup}'`, EXIT.usage, 'usage');
  return planned;
}

async function planBuild(b: ManifestBuild, manifest: string, cwd: string): Promise<PlannedArtifact[]> {
  // No run uuid in the metadata: registering the same image or file again from another run stays a no-op.
  const meta = (extra: Record<string, string>) => ({
    packer_builder: b.builder_type,
    ...(b.name ? { packer_build: b.name } : {}),
    ...extra,
  });
  const out: PlannedArtifact[] = [];
  // The null builder's id is the word "Null": there is no image.
  if (b.artifact_id && b.builder_type !== 'null' && b.files.length === 0) {
    const { type, scheme } = storageFor(b.builder_type);
    for (const { region, id } of imageIds(b.artifact_id)) {
      out.push({
        name: safeName(region ? `${region}.${id}` : id),
        storage_type: type,
        uri: `${scheme}://${region ?? 'global'}/${encodeURIComponent(id)}`,
        metadata: meta({ image_id: id, ...(region ? { region } : {}) }),
      });
    }
  }
  for (const f of b.files) {
    // Packer records paths relative to where it ran, which is usually where the manifest is.
    const candidates = isAbsolute(f.name)
      ? [f.name]
      : [resolve(cwd, f.name), resolve(dirname(manifest), f.name)];
    const path = candidates.find((c) => existsSync(c));
    if (!path)
      throw new CliError(
        `${manifest}: file ${f.name} is not there (looked in ${candidates.join(', ')})`,
        EXIT.usage,
        'usage',
      );
    const { checksum, size } = await fileDigest(path);
    out.push({
      name: safeName(basename(path)),
      storage_type: 'other',
      uri: path,
      checksum,
      size_bytes: size,
      metadata: meta({}),
      file: path,
    });
  }
  return out;
}

/**
 * Registers the planned artifacts of `state`. Registering the same artifact again is a no-op on
 * the server, so a re-run after a failure registers only what is new. With `upload`, files are
 * uploaded into BuildState's store and verified instead of registered as local paths.
 */
export async function registerPlanned(
  client: Client,
  buildId: string,
  state: number,
  planned: PlannedArtifact[],
  opts: { upload?: boolean; headers?: Record<string, string> } = {},
): Promise<ArtifactView[]> {
  const done: ArtifactView[] = [];
  for (const a of planned) {
    if (opts.upload && a.file) {
      done.push(await uploadArtifact(client, buildId, state, a.file, { name: a.name }));
      continue;
    }
    const { file: _file, ...body } = a;
    done.push(
      await client.post<ArtifactView>(
        `/builds/${encodeURIComponent(buildId)}/states/${state}/artifacts`,
        body,
        opts.headers,
      ),
    );
  }
  return done;
}

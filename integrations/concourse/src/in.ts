/**
 * in <dest>: the version's build as build.json, what a worker should do next as resume.json, the
 * state's artifact records as artifacts.json, and its verified artifacts downloaded into
 * artifacts/ with every checksum checked (a mismatch fails the step). nfs/file pointers are read
 * from their path on this worker (a mount), checked against their registered checksum; a path the
 * worker cannot read fails the step with what to mount.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type ArtifactView, downloadArtifact, LOCAL_STORAGE_TYPES } from '../../../cli/artifacts';
import { createProgress } from '../../../cli/progress';
import { channelIn, channelVersionSchema } from './channel';
import {
  type BuildView,
  clientFor,
  history,
  log,
  type Metadata,
  main,
  readRequest,
  seg,
  sourceSchema,
  versionSchema,
} from './resource';

const buildRequestSchema = z.object({
  source: sourceSchema,
  version: versionSchema,
  params: z.strictObject({ skip_download: z.boolean().default(false) }).nullish(),
});
/** source.channel: the version is an assignment; `cloud`/`region` pick the image written to `image_id`. */
const channelRequestSchema = z.object({
  source: sourceSchema,
  version: channelVersionSchema,
  params: z.strictObject({ cloud: z.string().optional(), region: z.string().optional() }).nullish(),
});
const requestSchema = z.union([channelRequestSchema, buildRequestSchema]);

interface StoredArtifact extends ArtifactView {
  storage_type: string;
}

main(async () => {
  const dest = process.argv[2];
  if (!dest) throw new Error('usage: in <destination directory>');
  const request = readRequest(requestSchema);
  if ('channel' in request.version) {
    const { source, version, params } = request as z.infer<typeof channelRequestSchema>;
    mkdirSync(dest, { recursive: true });
    return channelIn(clientFor(source), dest, version, params ?? {});
  }
  const { source, version, params } = request as z.infer<typeof buildRequestSchema>;
  const client = clientFor(source);
  const buildId = version.build_id;
  const code = Number(version.state_code);
  const seq = Number(version.seq);

  const build = await client.get<BuildView>(`/builds/${seg(buildId)}`);
  const resume = await client.get(`/builds/${seg(buildId)}/resume`);
  const entry = (await history(client, buildId)).find((item) => item.seq === seq);
  if (!entry)
    throw new Error(
      `build ${buildId} has no history entry ${seq}: version ${JSON.stringify(version)} does not exist`,
    );
  const grouped = await client.get<{ states: { state_code: number; artifacts: StoredArtifact[] }[] }>(
    `/builds/${seg(buildId)}/artifacts`,
  );
  const artifacts = grouped.states.find((s) => s.state_code === code)?.artifacts ?? [];

  mkdirSync(dest, { recursive: true });
  writeFileSync(join(dest, 'build.json'), `${JSON.stringify(build, null, 2)}\n`);
  writeFileSync(join(dest, 'resume.json'), `${JSON.stringify(resume, null, 2)}\n`);
  writeFileSync(join(dest, 'artifacts.json'), `${JSON.stringify(artifacts, null, 2)}\n`);

  const downloaded: string[] = [];
  if (!params?.skip_download) {
    const folder = resolve(dest, 'artifacts');
    mkdirSync(folder, { recursive: true });
    for (const listed of artifacts) {
      // A file BuildState stores must be verified to be handed on: one that is not was never
      // confirmed, or its bytes changed after verification (BuildState noticed and recorded it).
      if (!listed.verified && listed.managed)
        throw new Error(
          `${listed.name} of state ${code} is not verified: never verified, or its stored bytes changed after verification (see the build's history); not downloaded`,
        );
      // nfs/file pointers are read from their path when this worker has it (a mount), checked
      // against the registered checksum, verified or not; other external stores are listed only.
      const readable = !listed.managed && LOCAL_STORAGE_TYPES.has((listed as StoredArtifact).storage_type);
      if (!listed.verified && !readable) {
        log(`${listed.name}: not verified, not downloaded`);
        continue;
      }
      if (!listed.managed && !readable) {
        log(`${listed.name}: stored outside BuildState (${listed.uri}), not downloaded; see artifacts.json`);
        continue;
      }
      const artifact = readable
        ? (listed as StoredArtifact)
        : await client.get<StoredArtifact>(
            `/builds/${seg(buildId)}/states/${code}/artifacts/${seg(listed.name)}`,
          );
      // BuildState checks the stored object against what was verified before handing it out; one
      // overwritten since is unverified again (recorded in the build's history) and has no URL.
      if (!artifact.verified && !readable)
        throw new Error(
          `${listed.name} of state ${code} is not verified: its stored bytes changed after verification (see the build's history); not downloaded`,
        );
      const path = join(folder, listed.name);
      try {
        const got = await downloadArtifact(artifact, path, {
          // The step's log (stderr, never a terminal): a line every 5 s, as bldst --progress on a pipe.
          progress: ({ total }) => createProgress({ label: listed.name, total, enabled: true }),
          renewUrl: async () =>
            (
              await client.get<StoredArtifact>(
                `/builds/${seg(buildId)}/states/${code}/artifacts/${seg(listed.name)}`,
              )
            ).download?.url,
        });
        log(`${listed.name}: ${got.size} bytes, ${got.checksum} (checked)`);
      } catch (error) {
        rmSync(path, { force: true }); // never leave bytes that failed their checksum
        throw error;
      }
      downloaded.push(listed.name);
    }
  }

  const metadata: Metadata = [
    { name: 'build', value: build.id },
    { name: 'state', value: `${entry.state_code}${entry.state_name ? ` ${entry.state_name}` : ''}` },
    { name: 'status', value: entry.status ?? entry.event },
    { name: 'attempt', value: String(entry.attempt) },
    { name: 'platform', value: build.platform_id },
    { name: 'image_type', value: build.image_type_id },
    { name: 'build_status', value: `${build.status} (${build.progress_percent}%)` },
    ...(entry.worker_id ? [{ name: 'worker', value: entry.worker_id }] : []),
    { name: 'artifacts', value: artifacts.map((a) => a.name).join(', ') || '(none)' },
    { name: 'downloaded', value: params?.skip_download ? 'skipped' : String(downloaded.length) },
  ];
  return { version, metadata };
});

/** Artifacts of a state: add (a pointer, or a Packer manifest), upload, download, verify, list. */
import { STORAGE_TYPES } from '../lib/artifacts/artifact.model';
import {
  buildArg,
  type Command,
  compact,
  defineCommand,
  int,
  one,
  progressOpt,
  seg,
  show,
  stateOpt,
  withoutUrls,
} from './command';
import { CliError, EXIT, usage } from './errors';
import { handedDown } from './lease';
import { type Column, col, printJson, printTable } from './output';
import { requireState } from './runner';
import { choice } from './suggest';
import { DEFAULT_DOWNLOAD_PARALLEL, DEFAULT_UPLOAD_PARALLEL } from './transfer-defaults';

const ARTIFACT_COLUMNS: Column<Record<string, unknown>>[] = [
  col('state_code', 'STATE', { right: true }),
  col('name', 'NAME', { min: 10 }),
  col('storage_type', 'STORAGE'),
  col('size_bytes', 'SIZE', { right: true }),
  {
    header: 'VERIFIED',
    value: (a) => (a.verified ? 'yes' : 'no'),
    paint: (a) => (a.verified ? 'green' : 'yellow'),
  },
  col('checksum', 'CHECKSUM', { min: 12, drop: 1 }),
  col('uri', 'URI', { min: 10 }),
];

export const ARTIFACT_COMMANDS: Command[] = [
  defineCommand({
    path: ['artifact', 'add'],
    args: '[build-id]',
    summary:
      'Register an artifact stored elsewhere (a pointer with its checksum), or every artifact of a Packer manifest',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'file name (required without --from-packer-manifest)' },
      'storage-type': {
        type: 'string',
        description:
          's3, nfs, ebs, ceph, azure_blob, gcs, http, other (required without --from-packer-manifest)',
      },
      uri: { type: 'string', description: 'where it is, e.g. nfs://filer/builds/x.qcow2' },
      checksum: { type: 'string', description: 'sha256:<hex>' },
      'size-bytes': { type: 'string', description: 'size in bytes' },
      format: { type: 'string', description: 'qcow2, vmdk, raw, …' },
      'from-packer-manifest': {
        type: 'string',
        description:
          "register what Packer's manifest post-processor recorded for its last run: one artifact per region:image id, files with their SHA-256",
      },
      'packer-manifest': {
        type: 'string',
        description:
          "same as --from-packer-manifest; the images of its cloud builders are also recorded as the build's images (bldst image list)",
      },
      upload: {
        type: 'boolean',
        description:
          "with --from-packer-manifest: upload the manifest's files into BuildState and verify them",
      },
    },
    examples: [
      'bldst artifact add $BUILD_ID --state 30 --name state-30.qcow2 --storage-type nfs --uri nfs://filer01/builds/state-30.qcow2 --checksum sha256:…',
      'bldst artifact add $BUILD_ID --from-packer-manifest packer-manifest.json --state 15',
    ],
    async run(ctx, v, p) {
      const id = buildArg(p);
      const state = requireState(v.state);
      const manifest = v['from-packer-manifest'] ?? v['packer-manifest'];
      if (manifest) {
        const { planFromManifest, registerPlanned } = await import('./packer-manifest');
        const { imagesOf, recordImages } = await import('./packer-images');
        const planned = await planFromManifest(manifest);
        const done = await registerPlanned(ctx.client(), id, state, planned, { upload: Boolean(v.upload) });
        // The published images (an AMI per region …) are the build's output: channels hand them out.
        const images = await recordImages(ctx.client(), id, imagesOf(planned));
        if (images.length && !ctx.quiet)
          process.stderr.write(
            `recorded ${images.length} image(s) of ${id}: ${images.map((i) => `${i.region}:${i.image_id}`).join(', ')}\n`,
          );
        if (ctx.quiet) for (const a of done) process.stdout.write(`${a.name}\n`);
        else if (ctx.output === 'json')
          printJson(done.map((a) => withoutUrls(ctx, a as unknown as Record<string, unknown>)));
        else if (done.length === 0) process.stdout.write(`${manifest}: no artifacts in the last run\n`);
        else
          printTable(done as unknown as Record<string, unknown>[], ARTIFACT_COLUMNS, ctx.style, {
            wide: ctx.wide,
          });
        return EXIT.ok;
      }
      if (!v.name || !v['storage-type']) throw usage('--name and --storage-type are required');
      const a = await ctx.client().post<Record<string, unknown>>(
        `/builds/${seg(id)}/states/${state}/artifacts`,
        compact({
          name: v.name,
          storage_type: choice(v['storage-type'], STORAGE_TYPES, '--storage-type'),
          uri: v.uri,
          checksum: v.checksum,
          size_bytes: int(v['size-bytes'], '--size-bytes'),
          format: v.format,
        }),
      );
      show(ctx, withoutUrls(ctx, a));
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['artifact', 'upload'],
    args: '[build-id] <file>',
    summary: 'Upload a file as the artifact of a state (checksum computed, upload verified)',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'artifact name (default: the file name)' },
      format: { type: 'string', description: 'qcow2, vmdk, raw, …' },
      'part-size': {
        type: 'string',
        description:
          'multipart part size, 5MiB..5GiB (default 64MiB; grown to stay within 10,000 parts); larger files go in parts',
      },
      parallel: {
        type: 'string',
        description: `parts sent at once (1-64, default ${DEFAULT_UPLOAD_PARALLEL})`,
      },
      progress: progressOpt,
    },
    examples: [
      'bldst artifact upload $BUILD_ID image.qcow2 --state 25',
      'bldst artifact upload $BUILD_ID rhel9.raw --state 25 --part-size 128MiB --parallel 16',
      'bldst artifact upload out/image.qcow2 --state 25   # inside bldst run: $BLDST_BUILD_ID',
    ],
    async run(ctx, v, p) {
      // Inside `bldst run` the build may come from $BLDST_BUILD_ID, as for artifact add.
      const inherited = handedDown().buildId;
      if (p.length === 1 && inherited) p = [inherited, p[0]!];
      else if (p.length !== 2)
        throw usage(
          'expected [build-id] <file> (the build id may come from $BLDST_BUILD_ID inside bldst run)',
        );
      const { uploadArtifact } = await import('./artifacts');
      const { transferOptions } = await import('./upload');
      const { progressReporter, wantProgress } = await import('./progress');
      const { keptOfUpload } = await import('./upload');
      const { sayWhatIsKeptOnInterrupt } = await import('./interrupt');
      const transfer = transferOptions(v['part-size'], v.parallel);
      const progress = progressReporter(
        p[1]!,
        wantProgress({ quiet: ctx.quiet, progress: Boolean(v.progress) }),
      );
      const kept: import('./upload').UploadTracker = { stage: 'starting', storedParts: 0, partCount: 0 };
      const stopSaying = sayWhatIsKeptOnInterrupt(() => keptOfUpload(kept), progress.clear);
      const a = await uploadArtifact(ctx.client(), p[0]!, requireState(v.state), p[1]!, {
        name: v.name,
        format: v.format,
        ...transfer,
        onProgress: progress.onProgress,
        onReading: progress.onReading,
        tracker: kept,
        ...(ctx.quiet ? {} : { log: progress.note }),
      }).finally(() => {
        stopSaying();
        progress.done();
      });
      show(ctx, withoutUrls(ctx, a as unknown as Record<string, unknown>), a.checksum);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['artifact', 'download'],
    args: '<build-id>',
    summary: 'Download an artifact and check its checksum (exit 3 on mismatch)',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'artifact name (required)' },
      to: {
        type: 'string',
        short: 'O',
        description: 'file to write (default: the artifact name); an existing folder gets <folder>/<name>',
      },
      parallel: {
        type: 'string',
        description: `ranged GETs at once (1-64, default ${DEFAULT_DOWNLOAD_PARALLEL}, as aws s3 cp)`,
      },
      progress: progressOpt,
    },
    examples: [
      'bldst artifact download $BUILD_ID --state 25 --name image.qcow2',
      'HTTPS_PROXY=http://proxy.corp:3128 bldst artifact download $BUILD_ID --state 25 --name image.qcow2 --parallel 16',
    ],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      const name = v.name;
      if (!name) throw usage('--name is required');
      const { parallelOption } = await import('./upload');
      const parallel = v.parallel === undefined ? undefined : parallelOption(v.parallel, '--parallel');
      const { downloadArtifact } = await import('./artifacts');
      const { destinationOf } = await import('./download');
      const { createProgress, wantProgress } = await import('./progress');
      // A folder that does not exist is said before anything is asked of the service.
      const to = destinationOf(v.to, name);
      const artifactPath = `/builds/${seg(id)}/states/${requireState(v.state)}/artifacts/${seg(name)}`;
      const get = () => ctx.client().get<import('./artifacts').ArtifactView>(artifactPath);
      const { keptOfDownload } = await import('./download');
      const { sayWhatIsKeptOnInterrupt } = await import('./interrupt');
      const kept: import('./download').DownloadTracker = {
        keptRanges: 0,
        rangeCount: 0,
        keptBytes: 0,
        totalBytes: 0,
      };
      let line: import('./progress').Progress | undefined;
      const stopSaying = sayWhatIsKeptOnInterrupt(
        () => keptOfDownload(kept),
        () => line?.clear(),
      );
      const a = await get().catch((error: unknown) => {
        stopSaying();
        throw error;
      });
      const enabled = wantProgress({ quiet: ctx.quiet, progress: Boolean(v.progress) });
      const got = await downloadArtifact(a, to, {
        parallel,
        tracker: kept,
        progress: ({ total }) => {
          line = createProgress({ label: to, total, enabled });
          return line;
        },
        renewUrl: async () => (await get()).download?.url,
      }).finally(stopSaying);
      if (!ctx.quiet)
        process.stderr.write(`${to}: ${got.size} bytes, ${got.checksum}${a.checksum ? ' (matches)' : ''}\n`);
      // A pipe (or -o json) gets what was written as JSON, as every other command's output; the
      // checksum always matched here (a mismatch is exit 3 and names nothing).
      if (!ctx.quiet && ctx.output === 'json')
        printJson({
          path: to,
          name,
          state_code: a.state_code,
          size_bytes: got.size,
          checksum: got.checksum,
          matched: true,
        });
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['artifact', 'verify'],
    args: '<build-id>',
    summary: 'Have the server check size and checksum and mark the artifact verified',
    options: {
      state: stateOpt,
      name: { type: 'string', description: 'artifact name (required)' },
      file: {
        type: 'string',
        description:
          'external artifacts: the file as this worker sees it (e.g. on the NFS mount); its SHA-256 and size are computed and sent',
      },
      checksum: { type: 'string', description: 'what you observed (external artifacts; --file computes it)' },
      'size-bytes': {
        type: 'string',
        description: 'what you observed (external artifacts; --file computes it)',
      },
    },
    examples: [
      'bldst artifact verify $BUILD_ID --state 30 --name state-30.qcow2 --file /mnt/nfs/builds/state-30.qcow2',
      'bldst artifact verify $BUILD_ID --state 25 --name image.qcow2   # a managed upload: the server reads it',
    ],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      const name = v.name;
      if (!name) throw usage('--name is required');
      const file = v.file;
      if (file && (v.checksum || v['size-bytes']))
        throw usage(
          '--file computes the checksum and size: give --file or --checksum/--size-bytes, not both',
        );
      let observed: { checksum: string; size: number } | undefined;
      if (file) {
        const { fileDigest } = await import('./transfer');
        observed = await fileDigest(file).catch((error: Error) => {
          throw new CliError(`cannot read ${file}: ${error.message}`, EXIT.usage, 'usage');
        });
      }
      const body = compact({
        checksum: observed?.checksum ?? v.checksum,
        size_bytes: observed?.size ?? int(v['size-bytes'], '--size-bytes'),
      });
      const a = await ctx
        .client()
        .post<Record<string, unknown>>(
          `/builds/${seg(id)}/states/${requireState(v.state)}/artifacts/${seg(name)}/verify`,
          Object.keys(body).length ? body : undefined,
        );
      show(ctx, withoutUrls(ctx, a));
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['artifact', 'list'],
    args: '<build-id>',
    summary: 'All artifacts of a build, by state',
    examples: ['bldst artifact list $BUILD_ID'],
    async run(ctx, _v, p) {
      const res = await ctx
        .client()
        .get<{ states: { artifacts: Record<string, unknown>[] }[] }>(
          `/builds/${seg(one(p, 'build id'))}/artifacts`,
        );
      const rows = res.states.flatMap((s) => s.artifacts);
      ctx.output === 'json'
        ? printJson(res)
        : printTable(rows, ARTIFACT_COLUMNS, ctx.style, { wide: ctx.wide, empty: 'no artifacts' });
      return EXIT.ok;
    },
  }),
];

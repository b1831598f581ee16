/**
 * Running work under a lease: `run` (one command, one state) and `pipeline run` (a file of steps,
 * from where the build left off). Both move artifacts: `--part-size` and the parts or ranges sent
 * at once are taken as `artifact upload` takes them (cli/upload.ts `transferOptions`), and checked
 * before anything is reported.
 */
import { type Command, defineCommand, int, one, progressOpt } from './command';
import { usage } from './errors';
import { handedDown } from './lease';
import { requireState } from './runner';
import { STEP_ENVIRONMENT } from './step-env';
import { DEFAULT_DOWNLOAD_PARALLEL, DEFAULT_UPLOAD_PARALLEL } from './transfer-defaults';

const workerOpt = {
  type: 'string',
  description: 'worker id (default: host:pid or $BLDST_WORKER_ID)',
} as const;
const leaseTtlOpt = {
  type: 'string',
  description:
    'seconds the lease on the build lasts without a renewal (5-3600, default 120; renewed every third)',
} as const;
const buildOpt = { type: 'string', description: 'build id (required; default $BLDST_BUILD_ID)' } as const;

export const RUN_COMMANDS: Command[] = [
  defineCommand({
    path: ['run'],
    args: '-- <command> [args…]',
    summary:
      'Run a command under a lease on the build; with --state report in_progress, then completed (with --artifact uploaded) or failed, and skip a state already completed',
    passthrough: true,
    options: {
      build: buildOpt,
      state: {
        type: 'string',
        description:
          'state code 0-100 to report; without it the lease is only held and the command reports its own states',
      },
      artifact: {
        type: 'string',
        description: "file to upload and verify as this state's artifact on success",
      },
      worker: workerOpt,
      'lease-ttl': leaseTtlOpt,
      'part-size': {
        type: 'string',
        description:
          'multipart part size of the --artifact upload, 5MiB..5GiB (default 64MiB; grown to stay within 10,000 parts); larger files go in parts',
      },
      parallel: {
        type: 'string',
        description: `parts of the --artifact upload sent at once (1-64, default ${DEFAULT_UPLOAD_PARALLEL})`,
      },
      progress: progressOpt,
    },
    examples: [
      'bldst run --build $BUILD_ID --state 10 --artifact output/image.qcow2 -- packer build kickstart.pkr.hcl',
      'bldst run --build $BUILD_ID -- packer build image.pkr.hcl   # its provisioners report states themselves',
      'bldst run --build $BUILD_ID --state 30 --artifact rhel9.raw --part-size 128MiB --parallel 16 -- ./convert.sh',
    ],
    async run(ctx, v, _p, rest) {
      const id = v.build ?? handedDown().buildId;
      if (!id) throw usage('--build is required');
      if (rest.length === 0)
        throw usage('give the command after --, e.g. bldst run --build ID --state 10 -- make image');
      if (v.artifact && v.state === undefined) throw usage('--artifact needs --state');
      const { transferOptions } = await import('./upload');
      // Checked before the lease is taken or in_progress reported: a typo costs no attempt.
      const transfer = transferOptions(v['part-size'], v.parallel);
      const { runState } = await import('./runner');
      return runState(ctx.client(), {
        buildId: id,
        state: v.state === undefined ? undefined : requireState(v.state),
        command: rest,
        artifact: v.artifact,
        workerId: v.worker,
        leaseTtlSeconds: int(v['lease-ttl'], '--lease-ttl'),
        uploadProgress: !ctx.quiet,
        progressOnPipe: Boolean(v.progress),
        quiet: ctx.quiet,
        transfer,
      });
    },
  }),
  defineCommand({
    path: ['pipeline', 'run'],
    args: '<file.yaml|file.json>',
    summary:
      'Run a pipeline file from where the build left off (skips completed states, fetches the input artifact, retries); a fan_out forks the build and runs its children in parallel',
    options: {
      build: buildOpt,
      workdir: {
        type: 'string',
        description: 'where steps run and artifacts live (default: current directory)',
      },
      'retry-delay': {
        type: 'string',
        description: 'first retry delay in ms, doubled each time (default 2000)',
      },
      worker: workerOpt,
      'lease-ttl': leaseTtlOpt,
      parallel: {
        type: 'string',
        description: 'with a fan_out: children run at the same time, at most this many (1-100, default 4)',
      },
      'part-size': {
        type: 'string',
        description:
          "multipart part size of the steps' artifact uploads, 5MiB..5GiB (default 64MiB; grown to stay within 10,000 parts)",
      },
      'transfer-parallel': {
        type: 'string',
        description: `parts uploaded and ranges downloaded at once per artifact (1-64; default ${DEFAULT_UPLOAD_PARALLEL} parts, ${DEFAULT_DOWNLOAD_PARALLEL} ranges), in each child of a fan_out`,
      },
      progress: {
        type: 'boolean',
        description:
          "show the transfers' progress on a pipe too (a terminal shows it unless -q; never inside a fan_out's children)",
      },
    },
    examples: [
      'bldst pipeline run pipeline.yaml --build $BUILD_ID',
      'bldst pipeline run regions.yaml --build $BASE_ID --parallel 6   # common steps, then one child per region',
      'bldst pipeline run pipeline.yaml --build $BUILD_ID --part-size 128MiB --transfer-parallel 16',
    ],
    helpSections: [{ title: 'Step environment (set in every step)', rows: STEP_ENVIRONMENT }],
    async run(ctx, v, p) {
      const id = v.build ?? handedDown().buildId;
      if (!id) throw usage('--build is required');
      const parallel = int(v.parallel, '--parallel') ?? 4;
      if (parallel < 1 || parallel > 100) throw usage('--parallel must be 1-100');
      const { parallelOption, transferOptions } = await import('./upload');
      // artifact upload's checks: its --part-size, and its --parallel under the name left free here.
      const transfer = {
        ...transferOptions(v['part-size'], undefined),
        ...(v['transfer-parallel'] === undefined
          ? {}
          : { parallel: parallelOption(v['transfer-parallel'], '--transfer-parallel') }),
      };
      const { runPipeline } = await import('./pipeline-run');
      return runPipeline(ctx.client(), {
        parallel,
        file: one(p, 'pipeline file'),
        buildId: id,
        workdir: v.workdir ?? process.cwd(),
        retryDelayMs: int(v['retry-delay'], '--retry-delay') ?? 2000,
        workerId: v.worker,
        leaseTtlSeconds: int(v['lease-ttl'], '--lease-ttl'),
        transfer,
        quiet: ctx.quiet,
        progress: Boolean(v.progress),
      });
    },
  }),
];

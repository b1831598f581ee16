/**
 * Running work under a lease: `run` (one command, one state) and `pipeline run` (a file of steps,
 * from where the build left off).
 */
import { type Command, defineCommand, int, one } from './command';
import { usage } from './errors';
import { handedDown } from './lease';
import { requireState } from './runner';
import { STEP_ENVIRONMENT } from './step-env';

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
    },
    examples: [
      'bldst run --build $BUILD_ID --state 10 --artifact output/image.qcow2 -- packer build kickstart.pkr.hcl',
      'bldst run --build $BUILD_ID -- packer build image.pkr.hcl   # its provisioners report states themselves',
    ],
    async run(ctx, v, _p, rest) {
      const id = v.build ?? handedDown().buildId;
      if (!id) throw usage('--build is required');
      if (rest.length === 0)
        throw usage('give the command after --, e.g. bldst run --build ID --state 10 -- make image');
      if (v.artifact && v.state === undefined) throw usage('--artifact needs --state');
      const { runState } = await import('./runner');
      return runState(ctx.client(), {
        buildId: id,
        state: v.state === undefined ? undefined : requireState(v.state),
        command: rest,
        artifact: v.artifact,
        workerId: v.worker,
        leaseTtlSeconds: int(v['lease-ttl'], '--lease-ttl'),
        uploadProgress: !ctx.quiet,
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
    },
    examples: [
      'bldst pipeline run pipeline.yaml --build $BUILD_ID',
      'bldst pipeline run regions.yaml --build $BASE_ID --parallel 6   # common steps, then one child per region',
    ],
    helpSections: [{ title: 'Step environment (set in every step)', rows: STEP_ENVIRONMENT }],
    async run(ctx, v, p) {
      const id = v.build ?? handedDown().buildId;
      if (!id) throw usage('--build is required');
      const parallel = int(v.parallel, '--parallel') ?? 4;
      if (parallel < 1 || parallel > 100) throw usage('--parallel must be 1-100');
      const { runPipeline } = await import('./pipeline-run');
      return runPipeline(ctx.client(), {
        parallel,
        file: one(p, 'pipeline file'),
        buildId: id,
        workdir: v.workdir ?? process.cwd(),
        retryDelayMs: int(v['retry-delay'], '--retry-delay') ?? 2000,
        workerId: v.worker,
        leaseTtlSeconds: int(v['lease-ttl'], '--lease-ttl'),
      });
    },
  }),
];

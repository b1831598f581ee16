/**
 * What `pipeline run` sets in the environment of every step (kept out of pipeline.ts so `--help`
 * does not load the pipeline runner).
 * Its --help and docs/CLI.md list them.
 */
export const STEP_ENVIRONMENT: [string, string][] = [
  ['BLDST_BUILD_ID', 'the build the step reports on (a fan-out child: the child)'],
  ['BLDST_STATE', "the step's state"],
  ['BLDST_STEP', "the step's name"],
  ['BLDST_ATTEMPT', 'the attempt number the server counts for this state (1, 2, …)'],
  ['BLDST_LEASE_ID', 'the lease the run holds; a bldst inside reports under it'],
  ['BLDST_WORKER_ID', 'the worker id the reports carry'],
  ['BLDST_PIPELINE_DIR', 'the --workdir, absolute (for scripts and files every step and child shares)'],
  ['BLDST_INPUT_ARTIFACT', 'the downloaded, checked input artifact; empty when there is none'],
  ['BLDST_PARENT_ID', 'in a fan-out child: the build it was forked from; empty otherwise'],
];

/**
 * `bldst pipeline run FILE --build ID`: the seeds' promise made literal. Ask resume, skip what
 * completed, run the remaining steps with retries and backoff, each with the verified input
 * artifact of the latest completed state before it, and stop clearly when the build is blocked.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { backoffMs, sleep } from '../lib/retry';
import { type ArtifactView, downloadArtifact } from './artifacts';
import type { Client } from './client';
import { ApiError } from './client';
import { CliError, EXIT } from './errors';
import { interrupts } from './interrupt';
import { type HeldLease, leaseFor } from './lease';
import { duration } from './output';
import { createProgress } from './progress';
import { defaultWorkerId, runState, type TransferOptions } from './runner';

const stepSchema = z.strictObject({
  state: z.number().int().min(0).max(100),
  name: z.string().min(1),
  run: z.string().min(1),
  artifact: z.string().min(1).optional(),
  retries: z.number().int().min(0).max(10).default(0),
});
/** A fan-out target: a child as POST /builds/{id}/fork takes it (the server checks the fields), and the env its steps get. */
const targetSchema = z.strictObject({
  id: z.string().min(1).optional(),
  platform_id: z.string().min(1),
  image_type_id: z.string().min(1).optional(),
  os_version_id: z.string().min(1).optional(),
  build_number: z.union([z.string(), z.number().int().min(0)]).optional(),
  description: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name'), z.string())
    .optional(),
});
const fanOutSchema = z.strictObject({
  at_state: z.number().int().min(0).max(99),
  targets: z.array(targetSchema).min(1).max(100),
  steps: z.array(stepSchema).min(1),
});
const pipelineSchema = z
  .strictObject({ steps: z.array(stepSchema).default([]), fan_out: fanOutSchema.optional() })
  .refine((p) => p.steps.length > 0 || p.fan_out, {
    message: 'needs steps, a fan_out, or both',
    path: ['steps'],
  });
export type PipelineStep = z.infer<typeof stepSchema>;
export type FanOut = z.infer<typeof fanOutSchema>;
export type FanOutTarget = z.infer<typeof targetSchema>;
export interface Pipeline {
  steps: PipelineStep[];
  fan_out?: FanOut;
}

interface ResumeAdvice {
  action: 'start' | 'continue' | 'retry' | 'wait' | 'blocked' | 'done' | 'cancelled';
  state_code: number | null;
  last_completed_state: number | null;
  reason: string;
  input_artifacts: ArtifactView[];
}

export async function loadPipeline(file: string): Promise<Pipeline> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage, 'usage');
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new CliError(
      `${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
      EXIT.usage,
    );
  }
  const parsed = pipelineSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`)
      .join('; ');
    throw new CliError(`${file}: ${problems}`, EXIT.usage, 'usage');
  }
  const increasing = (steps: PipelineStep[], what: string) => {
    const states = steps.map((s) => s.state);
    if (states.some((s, i) => i > 0 && s <= states[i - 1]!))
      throw new CliError(`${file}: ${what} states must increase (${states.join(', ')})`, EXIT.usage, 'usage');
  };
  const { steps, fan_out } = parsed.data;
  increasing(steps, 'step');
  if (fan_out) {
    increasing(fan_out.steps, 'fan_out step');
    const late = steps.filter((s) => s.state > fan_out.at_state);
    if (late.length)
      throw new CliError(
        `${file}: the common steps run before the fork: ${late.map((s) => s.state).join(', ')} > fan_out.at_state ${fan_out.at_state}`,
        EXIT.usage,
        'usage',
      );
    const early = fan_out.steps.filter((s) => s.state <= fan_out.at_state);
    if (early.length)
      throw new CliError(
        `${file}: fan_out steps continue after the fork: ${early.map((s) => s.state).join(', ')} <= fan_out.at_state ${fan_out.at_state}`,
        EXIT.usage,
        'usage',
      );
    const ids = fan_out.targets.flatMap((t) => (t.id ? [t.id] : []));
    if (new Set(ids).size !== ids.length)
      throw new CliError(`${file}: fan_out.targets name an id twice`, EXIT.usage, 'usage');
  }
  return { steps, ...(fan_out ? { fan_out } : {}) };
}

export interface PipelineOptions {
  file: string;
  buildId: string;
  workdir: string;
  retryDelayMs: number;
  workerId?: string;
  leaseTtlSeconds?: number;
  /** Children run side by side, at most this many at once (fan_out; default 4). */
  parallel?: number;
  /** Part size of the outputs' uploads; parts (ranges of the inputs' downloads) at once. */
  transfer?: TransferOptions;
  /** -q: no transfer progress and no transfer notes. */
  quiet?: boolean;
  /** --progress: transfer progress on a pipe too (a line every 5 s). */
  progress?: boolean;
  log?: (line: string) => void;
}

/**
 * One build's steps from where it left off: ask resume, skip what completed, take the build's
 * lease (only when a step is left to run), run the rest. Returns the exit code of the run.
 */
export async function runBuild(
  client: Client,
  o: Pick<
    PipelineOptions,
    | 'buildId'
    | 'workdir'
    | 'retryDelayMs'
    | 'workerId'
    | 'leaseTtlSeconds'
    | 'transfer'
    | 'quiet'
    | 'progress'
  >,
  buildId: string,
  steps: PipelineStep[],
  log: (line: string) => void,
  extra: StepExtras & { nothingToRunIsOk?: boolean } = {},
): Promise<number> {
  interrupts.check(`build ${buildId}`);
  const id = encodeURIComponent(buildId);
  const advice = await client.get<ResumeAdvice>(`/builds/${id}/resume`);
  log(`resume: ${advice.action} — ${advice.reason}`);
  // retry: the failed state again; start/continue: everything after the last completed state.
  const from =
    advice.action === 'retry'
      ? advice.state_code!
      : advice.action === 'done'
        ? Number.POSITIVE_INFINITY
        : (advice.last_completed_state ?? -1) + 1;
  const todo = steps.filter((s) => s.state >= from);
  if (advice.action === 'done' || (extra.nothingToRunIsOk && todo.length === 0)) {
    if (advice.action !== 'done') log(`nothing to run: every step is at or below the last completed state`);
    return EXIT.ok;
  }
  switch (advice.action) {
    case 'cancelled':
    case 'blocked':
    case 'wait':
      throw new CliError(`build ${buildId}: ${advice.reason}`, EXIT.conflict, advice.action);
  }
  const skipped = steps.filter((s) => s.state < from);
  if (skipped.length)
    log(`skipping completed steps: ${skipped.map((s) => `${s.state} ${s.name}`).join(', ')}`);
  if (todo.length === 0) {
    log('nothing to run: every step is at or below the last completed state');
    return EXIT.ok;
  }

  // One lease for the whole run: no other worker starts this build while we fetch inputs and run steps.
  const workerId = o.workerId ?? defaultWorkerId();
  const lease = await leaseFor(client, buildId, workerId, o.leaseTtlSeconds ?? 120, log);
  try {
    return await runSteps(client, { ...o, buildId }, todo, lease, workerId, log, extra);
  } finally {
    await lease.release();
  }
}

/** What a fan-out adds to a child's steps: a prefix on every output line, env, a report counter. */
export interface StepExtras {
  prefix?: string;
  env?: Record<string, string>;
  onReport?: () => void;
}

/**
 * On a terminal (stderr), a line that says which step runs and for how long, redrawn every
 * second and cleared before any output of the step; in a pipe, nothing.
 */
class LiveLine {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;
  private readonly tty: boolean;

  constructor(enabled = true) {
    this.tty = enabled && Boolean(process.stderr.isTTY);
  }

  start(text: () => string) {
    if (!this.tty) return;
    const draw = () => {
      process.stderr.write(`\r\x1b[2K${text()}`);
      this.shown = true;
    };
    draw();
    this.timer = setInterval(draw, 1000);
    this.timer.unref();
  }

  clear = () => {
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  };

  stop() {
    clearInterval(this.timer);
    this.clear();
  }
}

/**
 * The input of the next step: the verified artifacts of the latest completed state before it (the
 * server's resume answer, asked again before each step), downloaded and checked under
 * <workdir>/.bldst/inputs/<state>/ — never into the current directory.
 */
async function fetchInputs(
  client: Client,
  buildId: string,
  workdir: string,
  have: Map<string, string>,
  log: (line: string) => void,
  /** A progress line per download on a terminal (not when children share it); 'always': on a pipe too. */
  showProgress: boolean | 'always' = false,
  transfer: TransferOptions = {},
): Promise<string | undefined> {
  const advice = await client.get<ResumeAdvice>(`/builds/${encodeURIComponent(buildId)}/resume`);
  let path: string | undefined;
  for (const input of advice.input_artifacts) {
    const dir = join(resolve(workdir), '.bldst', 'inputs', String(input.state_code));
    path = join(dir, input.name);
    if (have.get(path) === input.checksum) continue;
    mkdirSync(dir, { recursive: true });
    const got = await downloadArtifact(input, path, {
      parallel: transfer.parallel,
      renewUrl: async () =>
        (
          await client.get<ArtifactView>(
            `/builds/${encodeURIComponent(buildId)}/states/${input.state_code}/artifacts/${encodeURIComponent(input.name)}`,
          )
        ).download?.url,
      ...(showProgress
        ? {
            progress: ({ total }) =>
              createProgress({
                label: `input ${input.name}`,
                total,
                ...(showProgress === 'always' ? { enabled: true } : {}),
              }),
          }
        : {}),
    });
    have.set(path, got.checksum);
    log(
      `input artifact of state ${input.state_code}: ${input.name} → ${path} (${got.checksum}, ${input.verified ? 'verified' : 'not verified yet, matches its registered checksum'})`,
    );
  }
  return path;
}

async function runSteps(
  client: Client,
  o: {
    buildId: string;
    workdir: string;
    retryDelayMs: number;
    transfer?: TransferOptions;
    quiet?: boolean;
    progress?: boolean;
  },
  todo: PipelineStep[],
  lease: HeldLease,
  workerId: string,
  log: (line: string) => void,
  extra: StepExtras = {},
): Promise<number> {
  const id = encodeURIComponent(o.buildId);
  const downloaded = new Map<string, string>();
  // Children running side by side share the terminal: no live line, prefixed output instead.
  const live = new LiveLine(extra.prefix === undefined);
  const say = (line: string) => {
    live.clear();
    log(line);
  };

  for (const [k, step] of todo.entries()) {
    const label = `step ${k + 1} of ${todo.length}: ${step.state} ${step.name}`;
    for (let retry = 0; ; retry++) {
      const input = await fetchInputs(
        client,
        o.buildId,
        o.workdir,
        downloaded,
        say,
        extra.prefix === undefined && !o.quiet && (o.progress ? 'always' : true),
        o.transfer,
      );
      say(label);
      const started = Date.now();
      live.start(() => `${label} — running ${duration((Date.now() - started) / 1000)}`);
      let code: number;
      try {
        code = await runState(client, {
          buildId: o.buildId,
          state: step.state,
          command: step.run,
          artifact: step.artifact ? resolve(o.workdir, step.artifact) : undefined,
          // Every variable of STEP_ENVIRONMENT (step-env.ts) is set in every step (empty when it does not apply).
          env: {
            BLDST_PIPELINE_DIR: resolve(o.workdir),
            BLDST_PARENT_ID: '',
            ...extra.env,
            BLDST_INPUT_ARTIFACT: input ?? '',
            BLDST_STEP: step.name,
          },
          cwd: resolve(o.workdir),
          log: say,
          lease,
          workerId,
          beforeOutput: live.clear,
          prefix: extra.prefix,
          onReport: extra.onReport,
          // As for the inputs: a terminal's progress line, not inside a fan-out's children.
          uploadProgress: extra.prefix === undefined && !o.quiet,
          progressOnPipe: o.progress,
          // The step's live line would draw over the upload's progress line every second.
          beforeTransfer: live.stop.bind(live),
          quiet: o.quiet,
          transfer: o.transfer,
        });
      } catch (error) {
        if (error instanceof ApiError && error.code === 'blocked') {
          throw new CliError(
            `build ${o.buildId} is blocked at state ${step.state}: ${error.message}; unblock it to continue`,
            EXIT.conflict,
            'blocked',
          );
        }
        throw error;
      } finally {
        live.stop();
      }
      const took = duration((Date.now() - started) / 1000);
      if (code === 0) {
        say(`${label}: completed in ${took}`);
        break;
      }
      say(`${label}: failed in ${took} (exit code ${code})`);
      const build = await client.get<{ status: string }>(`/builds/${id}`);
      if (build.status === 'blocked') {
        throw new CliError(
          `build ${o.buildId} is blocked: state ${step.state} (${step.name}) used all its attempts; run \`bldst build unblock ${o.buildId} --reason "what was fixed"\` after fixing it`,
          EXIT.conflict,
          'blocked',
        );
      }
      if (retry >= step.retries) {
        say(`step ${step.state} ${step.name} failed; run the pipeline again to resume here`);
        return code;
      }
      const delay = backoffMs(retry, { baseMs: o.retryDelayMs, capMs: 60_000, jitter: false });
      say(`retrying state ${step.state} in ${delay} ms`);
      await sleep(delay);
    }
  }
  return EXIT.ok;
}

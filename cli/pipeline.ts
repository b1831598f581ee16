/**
 * `bldst pipeline run FILE --build ID`: the seeds' promise made literal. Ask resume, skip what
 * completed, fetch and check the input artifact of the last completed state, run the remaining
 * steps with retries and backoff, stop clearly when the build is blocked.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ArtifactView, downloadArtifact } from './artifacts';
import type { Client } from './client';
import { ApiError } from './client';
import { CliError, EXIT } from './errors';
import { type HeldLease, leaseFor } from './lease';
import { defaultWorkerId, runState } from './runner';

const stepSchema = z.strictObject({
  state: z.number().int().min(0).max(100),
  name: z.string().min(1),
  run: z.string().min(1),
  artifact: z.string().min(1).optional(),
  retries: z.number().int().min(0).max(10).default(0),
});
const pipelineSchema = z.strictObject({ steps: z.array(stepSchema).min(1) });
export type PipelineStep = z.infer<typeof stepSchema>;

interface ResumeAdvice {
  action: 'start' | 'continue' | 'retry' | 'wait' | 'blocked' | 'done' | 'cancelled';
  state_code: number | null;
  last_completed_state: number | null;
  reason: string;
  input_artifacts: ArtifactView[];
}

export async function loadPipeline(file: string): Promise<PipelineStep[]> {
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
  const states = parsed.data.steps.map((s) => s.state);
  if (states.some((s, i) => i > 0 && s <= states[i - 1]!)) {
    throw new CliError(`${file}: step states must increase (${states.join(', ')})`, EXIT.usage, 'usage');
  }
  return parsed.data.steps;
}

export async function runPipeline(
  client: Client,
  o: {
    file: string;
    buildId: string;
    workdir: string;
    retryDelayMs: number;
    workerId?: string;
    leaseTtlSeconds?: number;
    log?: (line: string) => void;
  },
): Promise<number> {
  const log = o.log ?? ((line: string) => process.stderr.write(`bldst: ${line}\n`));
  const steps = await loadPipeline(o.file);
  const id = encodeURIComponent(o.buildId);
  const advice = await client.get<ResumeAdvice>(`/builds/${id}/resume`);
  log(`resume: ${advice.action} — ${advice.reason}`);

  switch (advice.action) {
    case 'done':
      return EXIT.ok;
    case 'cancelled':
    case 'blocked':
    case 'wait':
      throw new CliError(`build ${o.buildId}: ${advice.reason}`, EXIT.conflict, advice.action);
  }
  // retry: the failed state again; start/continue: everything after the last completed state.
  const from = advice.action === 'retry' ? advice.state_code! : (advice.last_completed_state ?? -1) + 1;
  const todo = steps.filter((s) => s.state >= from);
  const skipped = steps.filter((s) => s.state < from);
  if (skipped.length)
    log(`skipping completed steps: ${skipped.map((s) => `${s.state} ${s.name}`).join(', ')}`);

  // One lease for the whole run: no other worker starts this build while we fetch inputs and run steps.
  const workerId = o.workerId ?? defaultWorkerId();
  const lease = await leaseFor(client, o.buildId, workerId, o.leaseTtlSeconds ?? 120, log);
  try {
    return await runSteps(client, o, todo, advice, lease, workerId, log);
  } finally {
    await lease.release();
  }
}

async function runSteps(
  client: Client,
  o: { buildId: string; workdir: string; retryDelayMs: number },
  todo: PipelineStep[],
  advice: ResumeAdvice,
  lease: HeldLease,
  workerId: string,
  log: (line: string) => void,
): Promise<number> {
  const id = encodeURIComponent(o.buildId);
  const env: Record<string, string> = {};
  for (const input of advice.input_artifacts) {
    const path = join(resolve(o.workdir), input.name);
    const got = await downloadArtifact(input, path);
    log(`input artifact of state ${input.state_code}: ${input.name} → ${path} (${got.checksum}, verified)`);
    env.BLDST_INPUT_ARTIFACT = path;
  }

  for (const step of todo) {
    for (let attempt = 1; ; attempt++) {
      log(`step ${step.state} ${step.name} (attempt ${attempt} of ${step.retries + 1})`);
      let code: number;
      try {
        code = await runState(client, {
          buildId: o.buildId,
          state: step.state,
          command: step.run,
          artifact: step.artifact ? resolve(o.workdir, step.artifact) : undefined,
          env: { ...env, BLDST_STEP: step.name, BLDST_ATTEMPT: String(attempt) },
          cwd: resolve(o.workdir),
          log,
          lease,
          workerId,
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
      }
      if (code === 0) break;
      const build = await client.get<{ status: string }>(`/builds/${id}`);
      if (build.status === 'blocked') {
        throw new CliError(
          `build ${o.buildId} is blocked: state ${step.state} (${step.name}) used all its attempts; run \`bldst build unblock ${o.buildId} --reason …\` after fixing it`,
          EXIT.conflict,
          'blocked',
        );
      }
      if (attempt > step.retries) {
        log(`step ${step.state} ${step.name} failed; run the pipeline again to resume here`);
        return code;
      }
      const delay = Math.min(o.retryDelayMs * 2 ** (attempt - 1), 60_000);
      log(`retrying state ${step.state} in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return EXIT.ok;
}

/**
 * `bldst pipeline run`: the common steps on the build, then, with a `fan_out`, fork the build once
 * (a re-run finds the same children) and run each child's steps side by side, each child under its
 * own lease and from its own state — a child that completed is not touched, a failed one retries
 * its failed state. Exit 0 only when every child completed.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from './client';
import { CliError, EXIT } from './errors';
import { type ChildView, type ForkBody, forkKey, forkOrFind } from './fan-out';
import { interrupted, interrupts } from './interrupt';
import { detectStyle, formatTable, statusPaint } from './output';
import { type FanOut, type FanOutTarget, loadPipeline, type PipelineOptions, runBuild } from './pipeline';

export async function runPipeline(client: Client, o: PipelineOptions): Promise<number> {
  // A signal between steps is remembered (no further step or child starts), never the default exit.
  const release = interrupts.hold();
  try {
    const code = await runPipelineHeld(client, o);
    if (interrupts.signal)
      throw interrupted(interrupts.signal, 'pipeline run interrupted; run it again to resume');
    return code;
  } finally {
    release();
  }
}

async function runPipelineHeld(client: Client, o: PipelineOptions): Promise<number> {
  const log = o.log ?? ((line: string) => process.stderr.write(`bldst: ${line}\n`));
  const pipeline = await loadPipeline(o.file);
  if (pipeline.steps.length) {
    const code = await runBuild(client, o, o.buildId, pipeline.steps, log, {
      // Before a fan-out the parent only has to have reached the fork: nothing left to run is fine.
      nothingToRunIsOk: Boolean(pipeline.fan_out),
    });
    if (code !== EXIT.ok || !pipeline.fan_out) return code;
  }
  return runFanOut(client, { ...o, fanOut: pipeline.fan_out!, log });
}

export interface ChildOutcome {
  id: string;
  target: string;
  /** Exit code of the child's run: 0 when it completed (now or before). */
  code: number;
  status: string;
  state: string;
  /** State reports this run sent for the child. */
  reports: number;
  result: string;
}

/** What identifies a target in logs and the summary: its region (metadata.region) or platform. */
export function targetLabel(t: FanOutTarget): string {
  const region = t.metadata?.region;
  return [t.platform_id, typeof region === 'string' ? region : undefined].filter(Boolean).join(' ');
}

/** The fork body of a fan-out: its targets as the API's children (without the env of their steps). */
export function forkBodyOf(fanOut: FanOut): ForkBody {
  return {
    at_state: fanOut.at_state,
    children: fanOut.targets.map(({ env: _env, build_number, ...child }) => ({
      ...child,
      ...(build_number === undefined ? {} : { build_number: String(build_number) }),
    })),
  };
}

/** Runs `tasks` with at most `limit` at once, keeping their order in the results. */
export async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const n = next++;
      results[n] = await tasks[n]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results;
}

export async function runFanOut(
  client: Client,
  o: Pick<
    PipelineOptions,
    | 'buildId'
    | 'workdir'
    | 'retryDelayMs'
    | 'workerId'
    | 'leaseTtlSeconds'
    | 'parallel'
    | 'transfer'
    | 'quiet'
    | 'progress'
  > & {
    fanOut: FanOut;
    log: (line: string) => void;
  },
): Promise<number> {
  const { fanOut, log } = o;
  const body = forkBodyOf(fanOut);
  const children = await forkOrFind(client, o.buildId, body, forkKey(o.buildId, body), log);
  const parallel = o.parallel ?? 4;
  log(`running ${children.length} children, at most ${parallel} at once`);
  const outcomes = await inParallel(
    children.map((child, n) => () => runChild(client, o, child, fanOut.targets[n]!)),
    parallel,
  );
  const style = detectStyle(process.stderr);
  process.stderr.write(
    formatTable(
      outcomes,
      [
        { header: 'CHILD', value: (c) => c.id, whole: true },
        { header: 'TARGET', value: (c) => c.target },
        { header: 'STATE', value: (c) => c.state, min: 8 },
        { header: 'STATUS', value: (c) => c.status, paint: (c) => statusPaint(c.status), min: 11 },
        { header: 'REPORTS', value: (c) => c.reports, right: true },
        { header: 'THIS RUN', value: (c) => c.result, min: 12 },
      ],
      style,
    ),
  );
  const notDone = outcomes.filter((c) => c.code !== EXIT.ok);
  log(
    notDone.length
      ? `${outcomes.length - notDone.length} of ${outcomes.length} children completed; run the pipeline again to resume ${notDone.map((c) => c.id).join(', ')}`
      : `all ${outcomes.length} children completed`,
  );
  // The first child (in the file's order) that did not complete decides the exit code.
  return notDone[0]?.code ?? EXIT.ok;
}

async function runChild(
  client: Client,
  o: Parameters<typeof runFanOut>[1],
  child: ChildView,
  target: FanOutTarget,
): Promise<ChildOutcome> {
  const prefix = `[${child.id}] `;
  const log = (line: string) => o.log(`${prefix}${line}`);
  let reports = 0;
  let code: number;
  let result: string;
  // Each child in its own directory: children side by side must not overwrite each other's files.
  const workdir = join(resolve(o.workdir), 'fan-out', child.id);
  try {
    mkdirSync(workdir, { recursive: true });
    code = await runBuild(client, { ...o, workdir }, child.id, o.fanOut.steps, log, {
      prefix,
      onReport: () => reports++,
      env: {
        ...target.env,
        BLDST_PARENT_ID: o.buildId,
        BLDST_PIPELINE_DIR: resolve(o.workdir),
      },
    });
    result = code === EXIT.ok ? (reports ? 'completed' : 'completed before') : `exit code ${code}`;
  } catch (error) {
    code = error instanceof CliError ? error.exitCode : EXIT.server;
    result = (error as Error).message.split('\n')[0]!;
    log(result);
  }
  let now: ChildView & { current_state?: number; state_name?: string | null };
  try {
    now = await client.get(`/builds/${encodeURIComponent(child.id)}`);
  } catch {
    now = child;
  }
  // A step may exit 0 without the child reaching its end (a pipeline whose last step is not 100).
  if (code === EXIT.ok && now.status !== 'completed') {
    code = EXIT.conflict;
    result = `${result}; the child is ${now.status}, not completed`;
  }
  return {
    id: child.id,
    target: targetLabel(target),
    code,
    status: now.status,
    state: `${now.current_state ?? '-'}${now.state_name ? ` ${now.state_name}` : ''}`,
    reports,
    result,
  };
}

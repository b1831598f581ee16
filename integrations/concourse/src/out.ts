/**
 * out <src>: creates a build (`params.create`) or reports a state of one, uploading `artifacts`
 * (globs relative to <src>) with their checksums into that state. Every write carries an
 * Idempotency-Key made of Concourse's BUILD_ID, the state and the status, so a put that Concourse
 * (or a person) re-runs within the same build records nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { uploadArtifact } from '../../../cli/artifacts';
import { ApiError, type Client } from '../../../cli/client';
import { progressReporter } from '../../../cli/progress';
import { expandGlob } from './glob';
import {
  type BuildView,
  clientFor,
  history,
  isCompletion,
  log,
  type Metadata,
  main,
  readRequest,
  type Source,
  seg,
  sourceSchema,
  type Version,
  versionOf,
} from './resource';

const paramsSchema = z
  .strictObject({
    /** The fields of POST /builds; the service validates them. */
    create: z.record(z.string(), z.unknown()).optional(),
    build_id: z.string().min(1).optional(),
    /** A file under <src> holding the build id, or a build.json written by `get` (its `id`). */
    build_id_file: z.string().min(1).optional(),
    state_code: z.coerce.number().int().min(0).max(100).optional(),
    status: z.enum(['in_progress', 'completed', 'failed']).optional(),
    message: z.string().max(2000).optional(),
    error: z.string().optional(),
    /** A file under <src> whose last 8 KB become `error` (e.g. a task's log). */
    error_file: z.string().min(1).optional(),
    artifacts: z.array(z.string().min(1)).max(20).optional(),
  })
  .refine((p) => p.create !== undefined || (p.state_code !== undefined && p.status !== undefined), {
    message: 'params need create, or state_code and status',
  })
  .refine((p) => p.create === undefined || (p.build_id ?? p.build_id_file ?? p.state_code) === undefined, {
    message: 'params.create makes a new build: give no build_id, build_id_file or state_code with it',
  });

const requestSchema = z.object({ source: sourceSchema, params: paramsSchema });

/** Where the put comes from, from the variables Concourse sets for `in` and `out`. */
function concourse() {
  const env = process.env;
  const buildId = env.BUILD_ID;
  if (!buildId) log('BUILD_ID is not set (not run by Concourse?): writes get random idempotency keys');
  const worker = [env.BUILD_PIPELINE_NAME, env.BUILD_JOB_NAME, env.BUILD_NAME].filter(Boolean).join('/');
  const url =
    env.ATC_EXTERNAL_URL && env.BUILD_PIPELINE_NAME && env.BUILD_JOB_NAME && env.BUILD_NAME
      ? `${env.ATC_EXTERNAL_URL}/teams/${seg(env.BUILD_TEAM_NAME ?? 'main')}/pipelines/${seg(env.BUILD_PIPELINE_NAME)}/jobs/${seg(env.BUILD_JOB_NAME)}/builds/${seg(env.BUILD_NAME)}`
      : undefined;
  return {
    keyPrefix: `concourse-${buildId ?? randomUUID()}`,
    workerId: worker || (buildId ? `concourse-build-${buildId}` : 'concourse'),
    metadata: {
      concourse: {
        ...(env.BUILD_TEAM_NAME ? { team: env.BUILD_TEAM_NAME } : {}),
        ...(env.BUILD_PIPELINE_NAME ? { pipeline: env.BUILD_PIPELINE_NAME } : {}),
        ...(env.BUILD_JOB_NAME ? { job: env.BUILD_JOB_NAME } : {}),
        ...(env.BUILD_NAME ? { build: env.BUILD_NAME } : {}),
        ...(buildId ? { build_id: buildId } : {}),
        ...(url ? { url } : {}),
      },
    },
  };
}

/** The build a put reports on: params.build_id, else params.build_id_file, else source.build_id. */
function buildIdFrom(src: string, params: z.infer<typeof paramsSchema>, source: Source): string {
  if (params.build_id) return params.build_id;
  if (!params.build_id_file) {
    if (source.build_id) return source.build_id;
    throw new Error('params need build_id or build_id_file (or set build_id in source)');
  }
  const text = readFileSync(resolve(src, params.build_id_file), 'utf8').trim();
  if (text.startsWith('{')) {
    const json = JSON.parse(text) as { id?: string; build_id?: string };
    const id = json.id ?? json.build_id;
    if (!id) throw new Error(`${params.build_id_file} has no "id" or "build_id"`);
    return id;
  }
  return text;
}

async function report(
  client: Client,
  buildId: string,
  body: Record<string, unknown>,
  key: string,
): Promise<{ build: BuildView; version: Version }> {
  const code = body.state_code as number;
  try {
    const build = await client.post<BuildView>(`/builds/${seg(buildId)}/states`, body, {
      'idempotency-key': key,
    });
    return { build, version: versionOf(buildId, { state_code: code, seq: build.version }) };
  } catch (error) {
    // A job re-run (a new BUILD_ID) of a state that already completed: the state is done, which is
    // what the put wanted; hand back the version that completed it.
    if (error instanceof ApiError && error.code === 'state_completed' && body.status === 'completed') {
      const done = (await history(client, buildId)).filter((item) => isCompletion(item, code)).pop();
      if (done) {
        log(`state ${code} of build ${buildId} was already completed (history entry ${done.seq})`);
        const build = await client.get<BuildView>(`/builds/${seg(buildId)}`);
        return { build, version: versionOf(buildId, done) };
      }
    }
    throw error;
  }
}

main(async () => {
  const src = process.argv[2];
  if (!src) throw new Error('usage: out <sources directory>');
  const { source, params } = readRequest(requestSchema);
  const client = clientFor(source);
  const ctx = concourse();

  if (params.create) {
    const build = await client.post<BuildView>(
      '/builds',
      { ...params.create, metadata: { ...ctx.metadata, ...((params.create.metadata as object) ?? {}) } },
      { 'idempotency-key': `${ctx.keyPrefix}-create` },
    );
    log(`created build ${build.id}`);
    const metadata: Metadata = [
      { name: 'build', value: build.id },
      { name: 'platform', value: build.platform_id },
      { name: 'image_type', value: build.image_type_id },
    ];
    return {
      version: versionOf(build.id, { state_code: build.current_state, seq: build.version }),
      metadata,
    };
  }

  const buildId = buildIdFrom(src, params, source);
  const code = params.state_code as number;
  const status = params.status as string;
  const files = (params.artifacts ?? []).flatMap((pattern) => {
    const matched = expandGlob(resolve(src), pattern);
    if (matched.length === 0) throw new Error(`artifacts: nothing under ${src} matches ${pattern}`);
    return matched;
  });
  const error = params.error_file
    ? readFileSync(resolve(src, params.error_file), 'utf8').slice(-8192)
    : params.error?.slice(-8192);
  const body = (s: string) => ({
    state_code: code,
    status: s,
    worker_id: ctx.workerId,
    ...(params.message ? { message: params.message } : {}),
    ...(s === 'failed' && error ? { error } : {}),
    metadata: ctx.metadata,
  });

  let result: { build: BuildView; version: Version } | undefined;
  if (files.length > 0) {
    // Artifacts belong to a state the build has reached: start it first if it has not.
    const current = await client.get<BuildView>(`/builds/${seg(buildId)}`);
    if (code > current.current_state) {
      result = await report(client, buildId, body('in_progress'), `${ctx.keyPrefix}-${code}-in_progress`);
    }
    for (const file of files) {
      // Concourse shows stderr as the step's log (never a terminal): the read pass and the transfer
      // as a line every 5 s, as bldst artifact upload --progress on a pipe.
      const progress = progressReporter(relative(src, file), true);
      const artifact = await uploadArtifact(client, buildId, code, file, {
        onProgress: progress.onProgress,
        onReading: progress.onReading,
        log: progress.note,
      }).finally(progress.done);
      log(`${artifact.name}: uploaded and verified (${artifact.checksum})`);
    }
  }
  if (!result || status !== 'in_progress') {
    result = await report(client, buildId, body(status), `${ctx.keyPrefix}-${code}-${status}`);
  }
  const { build, version } = result;
  log(`build ${buildId}: state ${code} ${status}`);
  const metadata: Metadata = [
    { name: 'build', value: buildId },
    { name: 'state', value: `${code}${build.state_name ? ` ${build.state_name}` : ''}` },
    { name: 'status', value: status },
    { name: 'attempt', value: String(build.attempt) },
    { name: 'platform', value: build.platform_id },
    { name: 'worker', value: ctx.workerId },
    ...(files.length ? [{ name: 'artifacts', value: files.map((f) => relative(src, f)).join(', ') }] : []),
  ];
  return { version, metadata };
});

import type { StateCatalog } from '../catalog/state-catalog';
import { buildCostView, buildCostViewSchema, entryCostView, entryCostViewSchema } from '../cost/cost.view';
import { metadataViewSchema, pageSchema, timestampSchema } from '../view';
import * as z from '../zod';
import { ATTEMPT_STATUSES, BUILD_STATUSES, type Build, type HistoryEntry } from './build.model';
import type { ResumeAction } from './resume';

const attemptStatus = z.enum(ATTEMPT_STATUSES);
const buildStatus = z.enum(BUILD_STATUSES);

/** The public representation of a build (GET /builds/{id} and every change that answers with it). */
export const buildViewSchema = z.strictObject({
  id: z.string(),
  project_id: z.string(),
  platform_id: z.string(),
  os_version_id: z.nullable(z.string()),
  image_type_id: z.string(),
  build_number: z.nullable(z.string()),
  description: z.nullable(z.string()),
  metadata: metadataViewSchema,
  current_state: z
    .int()
    .check(z.meta({ description: 'Where the build is: the state code of its latest attempt' })),
  state_name: z.nullable(z.string()),
  state_status: z.nullable(attemptStatus),
  status: buildStatus,
  attempt: z.int(),
  max_attempts: z.int(),
  last_completed_state: z.nullable(z.int()),
  progress_percent: z.int(),
  last_worker_id: z.nullable(z.string()),
  last_error: z.nullable(z.string()),
  version: z.int().check(z.meta({ description: 'Incremented by every accepted change; the ETag' })),
  created_by: z.string(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
  started_at: z.nullable(timestampSchema),
  completed_at: z.nullable(timestampSchema),
  cancelled_at: z.nullable(timestampSchema),
  parent_id: z
    .nullable(z.string())
    .check(z.meta({ description: 'The build this one was forked from (POST /builds/{id}/fork)' })),
  forked_at_state: z
    .nullable(z.int())
    .check(z.meta({ description: "The parent's state this child was forked at" })),
  work_avoided_s: z.int().check(
    z.meta({
      description:
        "Seconds of measured completed work not redone because the build resumed: retries, and for a child the parent's work up to the fork",
    }),
  ),
  cost: z.optional(buildCostViewSchema).check(
    z.meta({
      description:
        'What its attempts cost (docs/API.md, Costs): absent while no attempt was priced (neither the platform nor a worker gave an hourly_cost)',
    }),
  ),
  base_build_id: z
    .optional(z.string())
    .check(
      z.meta({ description: 'The build whose image or artifact this one starts from (absent if none)' }),
    ),
  revoked_at: z.optional(timestampSchema).check(
    z.meta({
      description: 'Present while the build is revoked (POST /builds/{id}/revoke, itself or an ancestor)',
    }),
  ),
  revoked_reason: z.optional(z.string()),
  revoked_by: z.optional(z.string()),
});
export type BuildView = z.infer<typeof buildViewSchema>;

/** The public representation of a build: the stored fields plus derived ones. */
export function buildView(build: Build, catalog: StateCatalog): BuildView {
  return {
    id: build.id,
    project_id: build.project_id,
    platform_id: build.platform_id,
    os_version_id: build.os_version_id,
    image_type_id: build.image_type_id,
    build_number: build.build_number,
    description: build.description,
    metadata: build.metadata,
    current_state: build.current_state,
    state_name: catalog.nameOf(build.current_state),
    state_status: build.state_status,
    status: build.status,
    attempt: build.attempt,
    max_attempts: build.max_attempts,
    last_completed_state: build.last_completed_state,
    progress_percent: build.last_completed_state ?? 0,
    last_worker_id: build.last_worker_id,
    last_error: build.last_error,
    version: build.version,
    created_by: build.created_by,
    created_at: build.created_at,
    updated_at: build.updated_at,
    started_at: build.started_at,
    completed_at: build.completed_at,
    cancelled_at: build.cancelled_at,
    parent_id: build.parent_id ?? null,
    forked_at_state: build.forked_at_state ?? null,
    work_avoided_s: Math.round(build.work_avoided_s ?? 0),
    ...(build.cost ? { cost: buildCostView(build.cost) } : {}),
    ...(build.base_build_id ? { base_build_id: build.base_build_id } : {}),
    ...(build.revoked_at
      ? {
          revoked_at: build.revoked_at,
          revoked_reason: build.revoked_reason ?? '',
          revoked_by: build.revoked_by ?? '',
        }
      : {}),
  };
}

/** A parent's roll-up of its children, from counters the stream aggregator keeps (eventually consistent). */
export const rollupViewSchema = z.strictObject({
  total: z.int(),
  by_status: z.strictObject(
    Object.fromEntries(BUILD_STATUSES.map((s) => [s, z.int()])) as Record<
      (typeof BUILD_STATUSES)[number],
      z.ZodMiniInt
    >,
  ),
  lowest_progress_percent: z.nullable(z.int()),
  highest_progress_percent: z.nullable(z.int()),
});
export type RollupView = z.infer<typeof rollupViewSchema>;

export function rollupView(item: Record<string, unknown>): RollupView {
  const count = (name: string) => Number(item[name] ?? 0);
  const progress = Object.keys(item)
    .filter((k) => k.startsWith('progress:') && count(k) > 0)
    .map((k) => Number(k.slice('progress:'.length)));
  return {
    total: count('total'),
    by_status: Object.fromEntries(
      BUILD_STATUSES.map((s) => [s, count(`status:${s}`)]),
    ) as RollupView['by_status'],
    lowest_progress_percent: progress.length ? Math.min(...progress) : null,
    highest_progress_percent: progress.length ? Math.max(...progress) : null,
  };
}

/** GET /builds/{id}: the build, and for a parent its roll-up. */
export const buildWithChildrenSchema = z.extend(buildViewSchema, { children: z.optional(rollupViewSchema) });

/** POST /builds/{id}/fork: the children made, in the order asked. */
export const forkViewSchema = z.strictObject({
  parent_id: z.string(),
  fork_id: z
    .string()
    .check(
      z.meta({ description: 'Derived from the Idempotency-Key when given: a retry completes the same fork' }),
    ),
  at_state: z.int(),
  parent_version: z.int(),
  children: z.array(buildViewSchema),
});

export const buildPageSchema = pageSchema(buildViewSchema);

/** One history entry: one accepted change, append-only; `seq` is the build version it produced. */
export const historyViewSchema = z.strictObject({
  build_id: z.string(),
  seq: z.int(),
  event: z.enum([
    'build_created',
    'state_reported',
    'build_unblocked',
    'build_cancelled',
    'artifact_unverified',
    'forked',
    'build_revoked',
    'build_restored',
    'family_status',
  ]),
  state_code: z.int(),
  state_name: z.nullable(z.string()),
  status: z.nullable(attemptStatus),
  attempt: z.int(),
  build_status: buildStatus,
  from_state: z.int(),
  from_state_status: z.nullable(attemptStatus),
  from_build_status: z.nullable(buildStatus),
  message: z.nullable(z.string()),
  error: z.nullable(z.string()),
  reason: z.nullable(z.string()),
  worker_id: z.nullable(z.string()),
  error_code: z.optional(
    z.string().check(
      z.meta({
        description:
          "Set on a failed attempt that was not the step's own failure: interrupted (the worker was stopped by a signal; not counted toward max_attempts) or worker_lost (its worker died and another took over; counted toward the lost-attempt limit only)",
      }),
    ),
  ),
  cost: z.optional(entryCostViewSchema).check(
    z.meta({
      description:
        'The attempt this entry closed (and its avoided work) priced; absent when nothing was priced',
    }),
  ),
  metadata: z.nullable(metadataViewSchema),
  actor: z.string(),
  recorded_at: timestampSchema,
});
export type HistoryView = z.infer<typeof historyViewSchema>;

/** One history entry, fields in a fixed order (DynamoDB returns map attributes unordered). */
export function historyView(entry: HistoryEntry, catalog: StateCatalog): HistoryView {
  return {
    build_id: entry.build_id,
    seq: entry.seq,
    event: entry.event,
    state_code: entry.state_code,
    state_name: catalog.nameOf(entry.state_code),
    status: entry.status,
    attempt: entry.attempt,
    build_status: entry.build_status,
    from_state: entry.from_state,
    from_state_status: entry.from_state_status,
    from_build_status: entry.from_build_status,
    message: entry.message,
    error: entry.error,
    reason: entry.reason,
    worker_id: entry.worker_id,
    ...(entry.error_code ? { error_code: entry.error_code } : {}),
    ...(entry.cost ? { cost: entryCostView(entry.cost) } : {}),
    metadata: entry.metadata,
    actor: entry.actor,
    recorded_at: entry.recorded_at,
  };
}

export const historyPageSchema = z.extend(pageSchema(historyViewSchema), { build_id: z.string() });

/** A running attempt whose worker died (lib/builds/lost-attempt.ts). */
export const lostAttemptViewSchema = z.strictObject({
  state_code: z.int(),
  attempt: z.int(),
  worker_id: z.nullable(z.string()),
  silent_since: timestampSchema,
  lease_expired_at: z.nullable(timestampSchema),
  by: z.enum(['lease', 'silence']),
});

const RESUME_ACTIONS = [
  'start',
  'continue',
  'retry',
  'wait',
  'blocked',
  'done',
  'cancelled',
] as const satisfies readonly ResumeAction[];

/** GET /builds/{id}/resume: what to run next; `input_artifacts` are artifact views with download URLs. */
export const resumeViewSchema = <A extends z.ZodMiniType>(artifact: A) =>
  z.strictObject({
    build_id: z.string(),
    action: z.enum(RESUME_ACTIONS),
    state_code: z.nullable(z.int()),
    state_name: z.nullable(z.string()),
    last_completed_state: z.nullable(z.int()),
    attempt: z.int(),
    max_attempts: z.int(),
    reason: z.string(),
    lost_attempt: z.optional(
      lostAttemptViewSchema.check(
        z.meta({
          description:
            'With action retry: the running attempt whose worker died (its lease ended, or it was silent for BUILDSTATE_HEARTBEAT_TIMEOUT_S); the next in_progress report records it failed with error_code worker_lost',
        }),
      ),
    ),
    input_artifacts: z.array(artifact),
  });

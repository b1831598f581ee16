import type { BuildCosts, EntryCost } from '../cost/pricing';
import type { AppError } from '../errors';

/** The build aggregate as the domain sees it: no table keys, no HTTP. */
export const BUILD_STATUSES = [
  'pending',
  'in_progress',
  'failed',
  'blocked',
  'completed',
  'cancelled',
] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export const ATTEMPT_STATUSES = ['in_progress', 'completed', 'failed'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/**
 * Why a failed attempt ended, when it was not the step's own failure. `interrupted`: the worker
 * stopped the step on SIGINT/SIGTERM (Ctrl-C, a stopping CI job); it is recorded, and it does not
 * count toward max_attempts.
 */
export const REPORTED_ERROR_CODES = ['interrupted'] as const;
export type ReportedErrorCode = (typeof REPORTED_ERROR_CODES)[number];

export const TERMINAL_STATUSES: ReadonlySet<BuildStatus> = new Set(['completed', 'cancelled']);

export interface Build {
  id: string;
  project_id: string;
  platform_id: string;
  os_version_id: string | null;
  image_type_id: string;
  build_number: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  /** Where the build is: the state code of its latest attempt (0 before anything ran). */
  current_state: number;
  /** How the latest attempt of current_state went; null while nothing has run at current_state. */
  state_status: AttemptStatus | null;
  /** The build as a whole. */
  status: BuildStatus;
  /** Attempt number of current_state (0 before the first attempt). */
  attempt: number;
  /** Attempts allowed for current_state, including those granted by unblock. */
  max_attempts: number;
  last_completed_state: number | null;
  /** Every code that has a completed attempt, ascending: resume hands out artifacts only from these. */
  completed_states: number[];
  last_worker_id: string | null;
  last_error: string | null;
  /** The error_code of the latest attempt when it failed with one (`interrupted`); absent or null otherwise. */
  last_error_code?: ReportedErrorCode | null;
  /** When the running (or last) attempt of current_state reported in_progress; null if it never did. */
  attempt_started_at?: string | null;
  /** Consecutive failed attempts of current_state with the same error (0 unless the last attempt failed). */
  error_streak?: number;
  /** The error of that streak (kept while a retry runs, so the next failure can be compared). */
  streak_error?: string | null;
  /** Incremented by every accepted change; the history item of that change carries it as `seq`. */
  version: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  cancelled_at: string | null;
  /** Measured seconds of each completed state's attempt (those that reported in_progress first), by code. */
  work_s?: Record<string, number>;
  /** Seconds of completed work not redone because the build resumed (retries, and a child's fork). */
  work_avoided_s?: number;
  /** What the build's priced attempts cost, by currency, in micro-units (lib/cost/pricing.ts); absent until one is priced. */
  cost?: BuildCosts;
  /** The worker's own hourly_cost given by the running attempt's in_progress report (lib/cost/pricing.ts). */
  attempt_hourly_cost?: string | null;
  /** The hourly_cost its lease's taker gave (POST /builds/{id}/lease), written with lease_id: attempts started under that lease use it. */
  lease_hourly_cost?: string | null;
  /** Set on a child of a fork (POST /builds/{id}/fork): the build it was forked from. */
  parent_id?: string | null;
  /** The parent's state the child was forked at: its completed states up to here are the parent's. */
  forked_at_state?: number | null;
  /**
   * On a fork parent: the version its last family status change wrote (lib/builds/family.ts). While
   * the parent is still at it, its own states have not moved and its status keeps following its children.
   */
  family_version?: number;
  /** The fork request that made this child (derived from its Idempotency-Key when given). */
  fork_id?: string | null;
  /** The fork request's fingerprint: a retry with the same key but another body is refused. */
  fork_fingerprint?: string | null;
  /**
   * The id of the build's lease, written by lease calls together with the live item's (take and
   * release; renewals keep it), without a new version; null while no lease was taken or since it
   * was released. Absent on builds made before it existed, until their next lease call. Every
   * change is conditioned on it being what was read, so it is never written back older, and a
   * report checks its lease against it (lib/builds/build.repository.ts, lib/builds/live.item.ts).
   */
  lease_id?: string | null;
  /** When the latest state report was accepted: the worker's sign of life, copied to the live item. */
  last_reported_at?: string;
  /**
   * The lease (X-Lease-Id) the running attempt of current_state reported in_progress under; null
   * when it reported without one. A report under another lease, or none, while that lease is not
   * live is a takeover of a lost attempt (transitions.ts, `lostAttempt`).
   */
  attempt_lease_id?: string | null;
  /** Attempts of current_state lost with their worker (recorded `worker_lost`); 0 on a new state. */
  lost_attempts?: number;
  /** The build whose image or artifact this one starts from (POST /builds `base_build_id`); lib/lineage. */
  base_build_id?: string | null;
  /** Set while the build is revoked (itself or through an ancestor's cascade); lib/lineage/revocation.service.ts. */
  revoked_at?: string | null;
  revoked_reason?: string | null;
  revoked_by?: string | null;
  /** The revocation that marked it, and the build that revocation started from. */
  revocation_id?: string | null;
  revoked_root_id?: string | null;
}

/** The error code of an attempt recorded failed because its worker went silent and another took over. */
export const WORKER_LOST = 'worker_lost';
/**
 * Lost attempts do not count toward max_attempts; they have their own limit, this many times the
 * state's max_attempts: a preempted VM now and then never blocks a build, a state that kills its
 * worker every time blocks it after LOST_LIMIT_FACTOR × max_attempts takeovers.
 */
export const LOST_LIMIT_FACTOR = 2;

export type HistoryEvent =
  | 'build_created'
  | 'state_reported'
  | 'build_unblocked'
  | 'build_cancelled'
  /** A verified artifact no longer matched what was verified: it is unverified again. */
  | 'artifact_unverified'
  /** The first entry of a fork's child: it names the parent and the parent's version. */
  | 'forked'
  /** Marked revoked, itself or through an ancestor's cascade (lib/lineage): position and status unchanged. */
  | 'build_revoked'
  /** A revocation undone (POST /builds/{id}/restore). */
  | 'build_restored'
  /** A fork parent's status follows its children (lib/builds/family.ts): written by the stream aggregator. */
  | 'family_status';

/**
 * On every history entry and live item a change writes (`counted_by: 'stream'`): the change's
 * counts are the stream aggregator's to apply. The version before it counted inside each
 * change's transaction and wrote no such field, so when a table it used is upgraded the
 * aggregator knows its records, up to 24 hours of them in the stream, as counted already
 * (lib/dashboard/aggregates.ts).
 */
export const COUNTED_BY = 'counted_by';
export const COUNTED_BY_STREAM = 'stream';

/** One append-only history entry; `seq` equals the build version the change produced. */
export interface HistoryEntry {
  build_id: string;
  /** Copied from the build so the change stream alone can describe the change (absent before v0.7). */
  project_id?: string;
  platform_id?: string;
  image_type_id?: string;
  /** The parent of a fork's child, on every entry of the child. */
  parent_id?: string;
  /** On a `forked` entry: the parent's version the child was forked from. */
  parent_version?: number;
  seq: number;
  /** `stream` (COUNTED_BY above); absent on entries of the version that counted in its transactions. */
  counted_by?: typeof COUNTED_BY_STREAM;
  event: HistoryEvent;
  state_code: number;
  /** The attempt's status for state reports; null for build-level events. */
  status: AttemptStatus | null;
  attempt: number;
  build_status: BuildStatus;
  from_state: number;
  from_state_status: AttemptStatus | null;
  from_build_status: BuildStatus | null;
  message: string | null;
  error: string | null;
  reason: string | null;
  worker_id: string | null;
  /** For failed attempts: how many attempts in a row failed with this error. */
  error_streak?: number;
  /**
   * For failed attempts that were not the step's own failure: `interrupted` (reported by the
   * worker, REPORTED_ERROR_CODES) or `worker_lost` (recorded by the takeover); absent otherwise.
   */
  error_code?: ReportedErrorCode | typeof WORKER_LOST;
  /** For completed attempts that reported in_progress first: how long the attempt ran, in seconds. */
  duration_s?: number;
  /** Seconds of measured completed work this change did not redo (a retry's first report, a fork). */
  work_avoided_s?: number;
  /** The attempt this entry closed, and its work_avoided_s, priced at the rate of that moment (lib/cost/pricing.ts). */
  cost?: EntryCost;
  metadata: Record<string, unknown> | null;
  actor: string;
  recorded_at: string;
}

export interface Change {
  build: Build;
  history: HistoryEntry;
  /**
   * History entries this change records before `history`, in seq order (a lost attempt recorded
   * failed by the report that takes over): the build's version moves past all of them at once.
   */
  earlier?: HistoryEntry[];
  /**
   * The change is committed, but the request that caused it is refused with this error: only a
   * takeover that reaches the lost-attempt limit (it records the loss and blocks the build; the
   * in_progress report itself is not applied). Committed without the request's idempotency record.
   */
  refusal?: AppError;
}

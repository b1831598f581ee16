/** Response schemas of the dashboard API (DashboardService builds these objects). */

import { ATTEMPT_STATUSES, BUILD_STATUSES } from '../builds/build.model';
import { timestampSchema } from '../view';
import * as z from '../zod';
import { COST_GROUPS, DAY_COUNTERS } from './aggregates';

const readUnits = z.number().check(z.meta({ description: 'DynamoDB read capacity the answer consumed' }));
const byStatus = z.strictObject(Object.fromEntries(BUILD_STATUSES.map((s) => [s, z.int()])));
const stuckKind = z.enum(['silent', 'overdue']);

export const durationStatsSchema = z.strictObject({
  platform_id: z.string(),
  state_code: z.int(),
  samples: z.int(),
  mean_s: z.number(),
  p50_s: z.nullable(z.number()),
  p90_s: z.nullable(z.number()),
  p95_s: z.nullable(z.number()),
});

export const durationsViewSchema = z.strictObject({
  items: z.array(durationStatsSchema),
  read_capacity_units: readUnits,
});

export const stuckAttemptSchema = z.strictObject({
  build_id: z.string(),
  project_id: z.string(),
  platform_id: z.string(),
  image_type_id: z.string(),
  state_code: z.int(),
  state_name: z.nullable(z.string()),
  attempt: z.int(),
  kinds: z.array(stuckKind),
  attempt_started_at: timestampSchema,
  last_heartbeat_at: timestampSchema,
  running_s: z.int(),
  silent_s: z.int(),
  overdue_after_s: z.nullable(z.number()),
  yardstick: z.nullable(
    z.strictObject({ seconds: z.number(), source: z.enum(['p95', 'expected_duration_s']) }),
  ),
  lease_worker_id: z.nullable(z.string()),
  last_worker_id: z.nullable(z.string()),
});

export const stuckViewSchema = z.strictObject({
  items: z.array(stuckAttemptSchema),
  heartbeat_timeout_s: z.int(),
  read_capacity_units: readUnits,
});

export const activeBuildSchema = z.strictObject({
  build_id: z.string(),
  project_id: z.string(),
  platform_id: z.string(),
  image_type_id: z.string(),
  status: z.enum(BUILD_STATUSES),
  current_state: z.int(),
  state_name: z.nullable(z.string()),
  state_status: z.nullable(z.enum(ATTEMPT_STATUSES)),
  attempt: z.int(),
  progress_percent: z.int(),
  started_at: z.nullable(timestampSchema),
  attempt_started_at: z.nullable(timestampSchema),
  last_heartbeat_at: z.nullable(timestampSchema),
  lease_worker_id: z.nullable(z.string()),
  eta_s: z.nullable(z.number()),
  eta_at: z.nullable(timestampSchema),
  eta_unknown_states: z.array(z.int()),
  stuck: z.array(stuckKind),
});

export const summaryViewSchema = z.strictObject({
  generated_at: timestampSchema,
  builds: z.strictObject({
    total: z.int().check(z.meta({ description: 'Every build: the sum of by_status' })),
    by_status: byStatus,
    fanned_out: z.int().check(
      z.meta({
        description:
          "Fork parents waiting on their children (their status follows the children's and is in_progress; nothing reported since the fork): counted in by_status.in_progress, and left out of active",
      }),
    ),
    by_platform: z.record(
      z.string(),
      z.strictObject({ total: z.int(), by_status: byStatus, fanned_out: z.int() }),
    ),
  }),
  active: z.strictObject({ count: z.int(), items: z.array(activeBuildSchema) }),
  failures_by_state: z.array(
    z.strictObject({ state_code: z.int(), failed_attempts: z.int(), state_name: z.nullable(z.string()) }),
  ),
  success_rate_7d: z.strictObject({
    window_days: z.int(),
    ...Object.fromEntries(DAY_COUNTERS.map((c) => [c, z.int()])),
    build_success_rate: z.nullable(z.number()),
    attempt_success_rate: z.nullable(z.number()),
  }),
  work_avoided: z
    .array(
      z.strictObject({
        window_days: z.int(),
        total_s: z.int(),
        by_platform: z.record(z.string(), z.int()),
      }),
    )
    .check(
      z.meta({
        description:
          'Seconds of completed work not re-run because builds resumed (retries, forks), over 7 and 30 days',
      }),
    ),
  read_capacity_units: readUnits,
});

const money = z.string().check(z.meta({ description: 'A decimal amount with 6 fraction digits' }));
const costSums = {
  currency: z.string().check(z.meta({ description: 'ISO 4217: sums are per currency, never mixed' })),
  total: money.check(z.meta({ description: 'What the priced attempts cost' })),
  failed: money.check(
    z.meta({ description: 'The part of total spent on failed, lost and interrupted attempts' }),
  ),
  avoided: money.check(
    z.meta({ description: 'Work not redone by resumes and forks, priced (not part of total)' }),
  ),
};
export const costsViewSchema = z.strictObject({
  group_by: z.enum(COST_GROUPS),
  since: z.string().check(z.meta({ description: 'First UTC day counted (YYYY-MM-DD)' })),
  until: z.string().check(z.meta({ description: 'Last UTC day counted: today' })),
  items: z.array(
    z.strictObject({
      key: z
        .string()
        .check(z.meta({ description: 'The platform, project or image type id, or the state code' })),
      ...costSums,
    }),
  ),
  totals: z.array(z.strictObject(costSums)),
  read_capacity_units: readUnits,
});

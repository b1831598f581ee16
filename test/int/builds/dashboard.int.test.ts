/**
 * Dashboard aggregates (kept from DynamoDB Local's real stream by the local aggregator), durations,
 * ETA and stuck detection on the real engine, with a fake clock shared by every service
 * (durations and silence are measured against it).
 */

import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import { type Milestone, StateCatalog } from '../../../lib/catalog/state-catalog';
import { DashboardRepository } from '../../../lib/dashboard/dashboard.repository';
import { DashboardService } from '../../../lib/dashboard/dashboard.service';
import { QueryCommand } from '../../../lib/db/commands';
import { OutboxRepository } from '../../../lib/events/outbox.repository';
import { detectStuck } from '../../../lib/events/stuck-detector';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { LeaseRepository } from '../../../lib/leases/lease.repository';
import { LeaseService } from '../../../lib/leases/lease.service';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
});
/** Counters come from the stream: wait until the aggregator has read everything committed so far. */
const settled = () => stack.events!.drain();
afterAll(() => stack.stop());

const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };

/** A small catalog: 0, 10 (expected 600 s), 20, 100. */
const MILESTONES: Milestone[] = [
  { code: 0, name: 'Initial', description: '', category: 'setup' },
  { code: 10, name: 'Kickstart', description: '', category: 'base', expected_duration_s: 600 },
  { code: 20, name: 'Harden', description: '', category: 'security' },
  { code: 100, name: 'Done', description: '', category: 'delivery' },
];
const catalog = new StateCatalog(MILESTONES);

function world(start = Date.parse('2026-05-04T08:00:00Z')) {
  let now = start;
  const clock = () => new Date(now);
  const { db } = services();
  const repo = new BuildRepository(db, stack.tableName);
  const catalogs = { forProject: async () => catalog };
  const builds = new BuildService({
    builds: repo,
    idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
    catalogs,
    defaultMaxAttempts: 3,
    clock,
  });
  const leases = new LeaseService({
    leases: new LeaseRepository(db, stack.tableName),
    getBuild: (id) => repo.get(id),
    clock,
  });
  const dashboard = new DashboardService({
    repo: new DashboardRepository(db, stack.tableName),
    catalogs,
    policy: { heartbeatTimeoutSeconds: 300, overdueFactor: 2, overdueMinSamples: 5 },
    clock,
  });
  const outbox = new OutboxRepository(db, stack.tableName);
  return {
    builds,
    leases,
    dashboard,
    detect: () => detectStuck(dashboard, outbox, clock),
    advance: (seconds: number) => (now += seconds * 1000),
    report: (
      id: string,
      state_code: number,
      status: 'in_progress' | 'completed' | 'failed',
      error?: string,
    ) => builds.report(id, { state_code, status, ...(error ? { error } : {}) }, actor),
  };
}

describe('durations, summary and ETA', () => {
  // Builds on platform gcp only, so the counts below are exact for this file's table.
  it('keeps counts and duration histograms from the committed changes', async () => {
    const w = world();
    // Six builds run state 10 for 100, 200, …, 600 s; the last three also run state 20 for 60 s and finish.
    for (let i = 1; i <= 6; i++) {
      const id = `dur-${i}`;
      await w.builds.create(
        { id, project_id: 'default', platform_id: 'gcp', image_type_id: 'rhel9', metadata: {} },
        actor,
      );
      await w.report(id, 10, 'in_progress');
      w.advance(i * 100);
      await w.report(id, 10, 'completed');
      if (i > 3) {
        await w.report(id, 20, 'in_progress');
        w.advance(60);
        await w.report(id, 20, 'completed');
        await w.report(id, 100, 'completed');
      }
    }
    // One failure at 20, then a cancelled build.
    await w.report('dur-1', 20, 'failed', 'ansible: unreachable');
    await w.builds.create(
      { id: 'dur-x', project_id: 'default', platform_id: 'gcp', image_type_id: 'rhel9', metadata: {} },
      actor,
    );
    await w.builds.cancel('dur-x', { reason: 'not needed' }, actor);

    await settled();
    const durations = await w.dashboard.durations('gcp');
    const at10 = durations.items.find((d) => d.state_code === 10)!;
    expect(at10.samples).toBe(6);
    expect(at10.mean_s).toBe(350);
    // True p50 is 300 s and p90 600 s; histogram buckets are within 5%.
    expect(Math.abs(at10.p50_s! - 300) / 300).toBeLessThanOrEqual(0.05);
    expect(Math.abs(at10.p90_s! - 600) / 600).toBeLessThanOrEqual(0.05);
    const at20 = durations.items.find((d) => d.state_code === 20)!;
    expect(at20.samples).toBe(3);
    expect(Math.abs(at20.p50_s! - 60) / 60).toBeLessThanOrEqual(0.05);
    expect(durations.items.every((d) => d.platform_id === 'gcp')).toBe(true);

    const summary = await w.dashboard.summary();
    expect(summary.builds.by_platform.gcp).toEqual({
      total: 7,
      by_status: { pending: 0, in_progress: 2, failed: 1, blocked: 0, completed: 3, cancelled: 1 },
      fanned_out: 0,
    });
    expect(summary.failures_by_state).toContainEqual(
      expect.objectContaining({ state_code: 20, failed_attempts: 1 }),
    );
    expect(summary.success_rate_7d).toMatchObject({
      builds_completed: 3,
      builds_cancelled: 1,
      attempts_failed: 1,
      build_success_rate: 0.75,
    });

    // dur-2 completed 10 and waits at 20: ETA = p50(20) + p50(100, unknown) → 20's estimate only.
    const active = summary.active.items.find((a) => a.build_id === 'dur-2')!;
    expect(active).toMatchObject({
      progress_percent: 10,
      state_name: 'Kickstart',
      eta_unknown_states: [100],
    });
    expect(active.eta_s).toBe(at20.p50_s);
    // dur-1 failed at 20: it has to run 20 again.
    const failed = summary.active.items.find((a) => a.build_id === 'dur-1')!;
    expect(failed).toMatchObject({ status: 'failed', eta_s: at20.p50_s });
    expect(summary.read_capacity_units).toBeGreaterThan(0);
  });
});

describe('stuck detection', () => {
  it('finds silent and overdue attempts through the active index and records each event once', async () => {
    const w = world(Date.parse('2026-06-01T00:00:00Z'));
    const make = async (id: string) => {
      await w.builds.create(
        { id, project_id: 'default', platform_id: 'x', image_type_id: 'rhel9', metadata: {} },
        actor,
      );
      await w.report(id, 10, 'in_progress');
    };
    await make('stuck-silent'); // no heartbeat at all
    await make('stuck-alive'); // heartbeats every 200 s
    const lease = await w.leases.acquire('stuck-alive', { worker_id: 'w-1', ttl_s: 600 });
    // A report's live item (the active index's entry) is written from the stream.
    await settled();

    w.advance(200);
    await w.leases.renew('stuck-alive', lease.lease_id, undefined);
    expect((await w.dashboard.stuck()).items).toEqual([]);
    w.advance(200); // 400 s since stuck-silent started, 200 s since stuck-alive's heartbeat
    await w.leases.renew('stuck-alive', lease.lease_id, undefined);

    const first = await w.dashboard.stuck();
    expect(first.items.map((s) => [s.build_id, s.kinds])).toEqual([['stuck-silent', ['silent']]]);
    expect(first.items[0]).toMatchObject({
      state_code: 10,
      state_name: 'Kickstart',
      attempt: 1,
      silent_s: 400,
    });
    expect(await w.detect()).toEqual({ stuck: 1, events_recorded: 1 });
    expect(await w.detect()).toEqual({ stuck: 1, events_recorded: 0 }); // once per attempt and kind

    // 1300 s in: both are past 2 × 600 s (the catalog's expected_duration_s): overdue.
    w.advance(900);
    await w.leases.renew('stuck-alive', lease.lease_id, undefined);
    const later = await w.dashboard.stuck();
    expect(later.items.map((s) => [s.build_id, s.kinds]).sort()).toEqual([
      ['stuck-alive', ['overdue']],
      ['stuck-silent', ['silent', 'overdue']],
    ]);
    expect(later.items[0]!.yardstick).toEqual({ seconds: 600, source: 'expected_duration_s' });
    expect(await w.detect()).toEqual({ stuck: 2, events_recorded: 2 });
    expect(await w.detect()).toEqual({ stuck: 2, events_recorded: 0 });

    // A new attempt is a new candidate; a finished one is not stuck any more.
    await w.report('stuck-silent', 10, 'failed', 'timeout');
    await w.builds.report('stuck-alive', { state_code: 10, status: 'completed' }, actor, {
      leaseId: lease.lease_id,
    });
    await settled();
    expect((await w.dashboard.stuck()).items).toEqual([]);

    // One outbox item per attempt and kind: what the stream publishes as Build State Stuck.
    const items = await services().db.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':pk': 'BUILD#stuck-silent', ':e': 'EVENT#' },
      }),
    );
    expect(items.Items?.map((i) => [i.sk, i.detail_type, i.detail.kind])).toEqual([
      ['EVENT#stuck#overdue#010#1', 'Build State Stuck', 'overdue'],
      ['EVENT#stuck#silent#010#1', 'Build State Stuck', 'silent'],
    ]);
  });

  it('switches the yardstick to the p95 of history once there are enough samples', async () => {
    const w = world(Date.parse('2026-07-01T00:00:00Z'));
    for (let i = 0; i < 5; i++) {
      const id = `p95-${i}`;
      await w.builds.create(
        { id, project_id: 'default', platform_id: 'bench', image_type_id: 'rhel9', metadata: {} },
        actor,
      );
      await w.report(id, 20, 'in_progress');
      w.advance(100);
      await w.report(id, 20, 'completed');
    }
    await w.builds.create(
      { id: 'p95-run', project_id: 'default', platform_id: 'bench', image_type_id: 'rhel9', metadata: {} },
      actor,
    );
    await w.report('p95-run', 20, 'in_progress');
    await w.leases.heartbeat('p95-run', { worker_id: 'w' });
    await settled();
    w.advance(150);
    await w.leases.heartbeat('p95-run', { worker_id: 'w' });
    expect((await w.dashboard.stuck()).items).toEqual([]);
    w.advance(60); // 210 s > 2 × p95 (≈ 100 s)
    await w.leases.heartbeat('p95-run', { worker_id: 'w' });
    const [stuck] = (await w.dashboard.stuck()).items;
    expect(stuck).toMatchObject({ build_id: 'p95-run', kinds: ['overdue'], yardstick: { source: 'p95' } });
    expect(Math.abs(stuck!.yardstick!.seconds - 100)).toBeLessThanOrEqual(5);
  });
});

/**
 * work_avoided_s with a fake clock shared by the services: measured state durations, a retry that
 * resumes instead of starting over, a fork's child that starts from its parent's work, and the
 * 7- and 30-day totals by platform on /dashboard/summary (from the real stream, DynamoDB Local).
 */
import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import { type Milestone, StateCatalog } from '../../../lib/catalog/state-catalog';
import { DashboardRepository } from '../../../lib/dashboard/dashboard.repository';
import { DashboardService } from '../../../lib/dashboard/dashboard.service';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ events: { pollMs: 50 } });
});
afterAll(() => stack.stop());

const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };
const MILESTONES: Milestone[] = [0, 10, 20, 30, 40, 100].map((code) => ({
  code,
  name: `s${code}`,
  description: '',
  category: 'general',
}));
const catalog = new StateCatalog(MILESTONES);

it('counts the measured work a retry and a fork did not redo, per build and over 7 and 30 days', async () => {
  let now = Date.parse('2026-05-04T08:00:00Z');
  const clock = () => new Date(now);
  const advance = (s: number) => (now += s * 1000);
  const { db } = services();
  const catalogs = { forProject: async () => catalog };
  const builds = new BuildService({
    builds: new BuildRepository(db, stack.tableName),
    idempotency: new IdempotencyRepository(db, stack.tableName, 3600),
    catalogs,
    defaultMaxAttempts: 3,
    clock,
  });
  const dashboard = new DashboardService({
    repo: new DashboardRepository(db, stack.tableName),
    catalogs,
    policy: { heartbeatTimeoutSeconds: 300, overdueFactor: 2, overdueMinSamples: 5 },
    clock,
  });
  const run = async (
    id: string,
    code: number,
    seconds: number,
    end: 'completed' | 'failed' = 'completed',
  ) => {
    await builds.report(id, { state_code: code, status: 'in_progress' }, actor);
    advance(seconds);
    await builds.report(
      id,
      { state_code: code, status: end, ...(end === 'failed' ? { error: 'e' } : {}) },
      actor,
    );
  };
  const avoided = async (id: string) =>
    ((await builds.get(id)).body as { work_avoided_s: number }).work_avoided_s;

  await builds.create(
    { id: 'wa-1', project_id: 'default', platform_id: 'gcp', image_type_id: 'rhel9', metadata: {} },
    actor,
  );
  await run('wa-1', 10, 600);
  await run('wa-1', 20, 300);
  await builds.report('wa-1', { state_code: 30, status: 'completed' }, actor); // never measured: counts 0
  await run('wa-1', 40, 120, 'failed');
  expect(await avoided('wa-1')).toBe(0);
  // The retry of 40 does not redo 10, 20 and 30: 600 + 300 (+ 0) seconds.
  await run('wa-1', 40, 100);
  expect(await avoided('wa-1')).toBe(900);

  // A child forked at 20 starts with the parent's measured 600 + 300 s.
  advance(40 * 86_400); // a later day, outside the 30-day window of the first retry
  const fork = await builds.fork(
    'wa-1',
    { at_state: 20, children: [{ id: 'wa-c1', platform_id: 'aws', metadata: {} }] },
    actor,
  );
  expect((fork.body as { children: { work_avoided_s: number }[] }).children[0]!.work_avoided_s).toBe(900);
  // Its own retry after a failure at 40 avoids the inherited 900 s and its own 30 at 50 s.
  await run('wa-c1', 30, 50);
  await run('wa-c1', 40, 10, 'failed');
  await builds.report('wa-c1', { state_code: 40, status: 'in_progress' }, actor);
  expect(await avoided('wa-c1')).toBe(900 + 950);

  await stack.events!.drain();
  const summary = await dashboard.summary();
  expect(summary.work_avoided).toEqual([
    { window_days: 7, total_s: 1850, by_platform: { aws: 1850 } },
    { window_days: 30, total_s: 1850, by_platform: { aws: 1850 } },
  ]);
  advance(-39 * 86_400); // back to the day after the first retry: only it is in the window
  expect((await dashboard.summary()).work_avoided).toEqual([
    { window_days: 7, total_s: 900, by_platform: { gcp: 900 } },
    { window_days: 30, total_s: 900, by_platform: { gcp: 900 } },
  ]);
});

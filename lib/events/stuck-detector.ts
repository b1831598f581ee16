/**
 * One pass of the stuck detector (a scheduled Lambda in AWS, an interval inside `npm start`):
 * find stuck attempts through the active index and record one outbox event per attempt and kind.
 */
import type { DashboardService } from '../dashboard/dashboard.service';
import type { OutboxRepository } from './outbox.repository';

export interface DetectionResult {
  stuck: number;
  events_recorded: number;
}

export async function detectStuck(
  dashboard: DashboardService,
  outbox: OutboxRepository,
  clock: () => Date = () => new Date(),
): Promise<DetectionResult> {
  const stuck = await dashboard.findStuck();
  let recorded = 0;
  for (const attempt of stuck)
    for (const kind of attempt.kinds) if (await outbox.recordStuck(attempt, kind, clock())) recorded++;
  return { stuck: stuck.length, events_recorded: recorded };
}

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch metrics in embedded metric format (Powertools); POWERTOOLS_METRICS_DISABLED turns them off locally. */
export const metrics = new Metrics({ namespace: 'BuildState', serviceName: 'buildstate' });

/**
 * What the stream aggregator just applied, once per priced history entry (never for a redelivered
 * one): `AttemptCost` and `AvoidedCost` by platform and currency, in currency units.
 */
export function recordCosts(
  costs: { platform_id: string; currency: string; micros: number; avoided_micros: number }[],
): void {
  for (const c of costs) {
    // A single metric is flushed (and its dimensions cleared) by its addMetric: one per metric.
    for (const [name, micros] of [
      ['AttemptCost', c.micros],
      ['AvoidedCost', c.avoided_micros],
    ] as const) {
      const single = metrics.singleMetric();
      single.addDimension('platform', c.platform_id);
      single.addDimension('currency', c.currency);
      single.addMetric(name, MetricUnit.NoUnit, micros / 1_000_000);
    }
  }
}

/** One accepted state report, by platform and attempt status: the dashboard's transitions and failures. */
export function recordStateReport(platformId: string, status: string): void {
  const single = metrics.singleMetric();
  single.addDimension('platform', platformId);
  single.addDimension('status', status);
  single.addMetric('StateReports', MetricUnit.Count, 1);
}

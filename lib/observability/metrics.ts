import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch metrics in embedded metric format (Powertools); POWERTOOLS_METRICS_DISABLED turns them off locally. */
export const metrics = new Metrics({ namespace: 'BuildState', serviceName: 'buildstate' });

/** One accepted state report, by platform and attempt status: the dashboard's transitions and failures. */
export function recordStateReport(platformId: string, status: string): void {
  const single = metrics.singleMetric();
  single.addDimension('platform', platformId);
  single.addDimension('status', status);
  single.addMetric('StateReports', MetricUnit.Count, 1);
}

/** The CloudWatch dashboard and alarms; alarms notify the alert topic. */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';

export interface ObservabilityProps {
  config: StageConfig;
  apis: HttpApi[];
  functions: Record<string, IFunction>;
  table: ITableV2;
  alertTopic: ITopic;
}

const FIVE_MINUTES = Duration.minutes(5);
/** Table operations the service performs (alarms and graphs cover exactly these). */
const TABLE_OPERATIONS = ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem', 'TransactWriteItems'];

/** State reports by platform and status, from the EMF metrics the states function emits (lib/observability/metrics.ts). */
const stateReports = (status?: string) =>
  new MathExpression({
    expression: `SEARCH('{BuildState,platform,service,status} MetricName="StateReports"${status ? ` status="${status}"` : ''}', 'Sum', 300)`,
    label: '',
    period: FIVE_MINUTES,
  });

/** Priced attempts (or avoided work) by platform and currency, from the aggregator's EMF metrics (recordCosts). */
const costs = (metric: 'AttemptCost' | 'AvoidedCost') =>
  new MathExpression({
    expression: `SEARCH('{BuildState,currency,platform,service} MetricName="${metric}"', 'Sum', 3600)`,
    label: '',
    period: Duration.hours(1),
  });

export class Observability extends Construct {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const [keyApi] = props.apis;
    const fns = Object.entries(props.functions);
    const tableErrors = props.table.metricSystemErrorsForOperations({
      operations: TABLE_OPERATIONS as never,
      period: FIVE_MINUTES,
    });
    const tableThrottles = props.table.metricThrottledRequestsForOperations({
      operations: TABLE_OPERATIONS as never,
      period: FIVE_MINUTES,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `buildstate-${props.config.stage}` });
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `# BuildState (${props.config.stage})`, width: 24, height: 1 }),
      new GraphWidget({
        title: 'Requests',
        width: 8,
        left: props.apis.map((api) => api.metricCount({ period: FIVE_MINUTES, label: api.node.id })),
      }),
      new GraphWidget({
        title: 'Errors (4xx / 5xx)',
        width: 8,
        left: props.apis.flatMap((api) => [
          api.metricClientError({ period: FIVE_MINUTES, label: `${api.node.id} 4xx` }),
          api.metricServerError({ period: FIVE_MINUTES, label: `${api.node.id} 5xx` }),
        ]),
      }),
      new GraphWidget({
        title: 'Latency p50 / p99 (ms)',
        width: 8,
        left: props.apis.flatMap((api) => [
          api.metricLatency({ period: FIVE_MINUTES, statistic: 'p50', label: `${api.node.id} p50` }),
          api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99', label: `${api.node.id} p99` }),
        ]),
      }),
      new GraphWidget({
        title: 'State transitions by platform and status',
        width: 12,
        left: [stateReports()],
      }),
      new GraphWidget({ title: 'Failures by platform', width: 12, left: [stateReports('failed')] }),
      new GraphWidget({
        title: 'Cost by platform and currency (hourly)',
        width: 12,
        left: [costs('AttemptCost')],
      }),
      new GraphWidget({
        title: 'Saved by resuming, by platform (hourly)',
        width: 12,
        left: [costs('AvoidedCost')],
      }),
      new GraphWidget({
        title: 'Lambda errors and throttles',
        width: 12,
        left: fns.map(([name, fn]) => fn.metricErrors({ period: FIVE_MINUTES, label: `${name} errors` })),
        right: fns.map(([name, fn]) =>
          fn.metricThrottles({ period: FIVE_MINUTES, label: `${name} throttles` }),
        ),
      }),
      // Separate graphs: both expressions name their per-operation metrics alike (getitem, …).
      new GraphWidget({ title: 'DynamoDB system errors', width: 6, left: [tableErrors] }),
      new GraphWidget({ title: 'DynamoDB throttled requests', width: 6, left: [tableThrottles] }),
    );

    this.alarm(
      'Api5xx',
      keyApi!.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      5,
      1,
      'API 5xx responses',
    );
    this.alarm(
      'ApiLatencyP99',
      keyApi!.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
      2000,
      3,
      'API p99 latency over 2 s',
    );
    for (const [name, fn] of fns) {
      this.alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
        1,
        `Lambda ${name} throttled`,
      );
    }
    this.alarm('DynamoDbSystemErrors', tableErrors, 1, 1, 'DynamoDB system errors');
    this.alarm('DynamoDbThrottles', tableThrottles, 1, 1, 'DynamoDB throttled requests');

    const notify = new SnsAction(props.alertTopic);
    for (const alarm of this.alarms) alarm.addAlarmAction(notify);
  }

  private alarm(id: string, metric: IMetric, threshold: number, periods: number, description: string): void {
    this.alarms.push(
      new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }),
    );
  }
}

/**
 * The event bus (fed by the table stream's publisher), the alert topic, the rules that feed it,
 * and the stuck detector's schedule.
 */
import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DETAIL_TYPES, EVENT_SOURCE } from '../../lib/events/events';
import type { StageConfig } from '../config';

export class Alerts extends Construct {
  readonly bus: EventBus;
  readonly topic: Topic;
  readonly stuckSchedule: Rule;

  constructor(scope: Construct, id: string, props: { config: StageConfig }) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'BuildState state-change and stuck-build events' });
    this.topic = new Topic(this, 'AlertTopic', { displayName: 'BuildState alerts', enforceSSL: true });
    if (props.config.alertEmail) this.topic.addSubscription(new EmailSubscription(props.config.alertEmail));

    new Rule(this, 'StuckToAlerts', {
      eventBus: this.bus,
      description: 'Build State Stuck and Build Retry Loop events go to the alert topic',
      eventPattern: { source: [EVENT_SOURCE], detailType: [DETAIL_TYPES.stuck, DETAIL_TYPES.retryLoop] },
      targets: [new SnsTopic(this.topic)],
    });

    this.stuckSchedule = new Rule(this, 'StuckDetectorSchedule', {
      description: 'Runs the stuck detector every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
    });
  }
}

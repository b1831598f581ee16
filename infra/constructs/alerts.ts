/**
 * The event bus for state-change events, the alert topic, and the rules that feed it. The stuck
 * detector's schedule is created disabled: its function arrives with the leases/stuck-detection work.
 */
import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';

export const EVENT_SOURCE = 'buildstate';

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
      description: 'Build State Stuck events go to the alert topic',
      eventPattern: { source: [EVENT_SOURCE], detailType: ['Build State Stuck'] },
      targets: [new SnsTopic(this.topic)],
    });

    this.stuckSchedule = new Rule(this, 'StuckDetectorSchedule', {
      description: 'Runs the stuck detector (enabled when its function is deployed)',
      schedule: Schedule.rate(Duration.minutes(1)),
      enabled: false,
    });
  }
}

/**
 * The CDK app: `npx cdk synth -c stage=dev` (or `npm run synth`). Two stacks per stage: stateful
 * (table, buckets) and stateless (functions, APIs, events, dashboard). cdk-nag AwsSolutions checks
 * run on every synth; acknowledged findings carry their reasons in infra/nag.ts.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stageConfig } from './config';
import { StatefulStack } from './stateful-stack';
import { StatelessStack } from './stateless-stack';

export function buildApp(app: App = new App()) {
  const config = stageConfig({
    stage: app.node.tryGetContext('stage'),
    alertEmail: app.node.tryGetContext('alertEmail'),
  });
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stateful = new StatefulStack(app, `BuildState-${config.stage}-Stateful`, {
    env,
    config,
    description: `BuildState ${config.stage}: table and artifact buckets`,
  });
  const stateless = new StatelessStack(app, `BuildState-${config.stage}-Stateless`, {
    env,
    config,
    description: `BuildState ${config.stage}: functions, APIs, events, dashboard`,
  });
  stateless.addStackDependency(stateful, 'functions use the table and bucket by name');
  Tags.of(app).add('project', 'buildstate');
  Tags.of(app).add('stage', config.stage);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, config, stateful, stateless };
}

/**
 * The EventBridge schema registry of BuildState's events: one schema per detail type, JSON Schema
 * draft 4 of the whole event, generated from the zod contracts in lib/events/event.schema.ts (the
 * same source docs/EVENTS.md is rendered from). Consumers find them in the console or with
 * `aws schemas describe-schema`, and can generate code bindings from them.
 */
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { EVENT_CONTRACTS, eventJsonSchema } from '../../lib/events/event.schema';
import { EVENT_SOURCE } from '../../lib/events/events';
import type { StageConfig } from '../config';

export class EventSchemas extends Construct {
  readonly registry: CfnRegistry;

  constructor(scope: Construct, id: string, props: { config: StageConfig }) {
    super(scope, id);
    this.registry = new CfnRegistry(this, 'Registry', {
      registryName: `buildstate-${props.config.stage}`,
      description: 'Schemas of the events BuildState publishes on its bus (docs/EVENTS.md)',
    });
    for (const contract of EVENT_CONTRACTS) {
      const schema = new CfnSchema(this, contract.name, {
        registryName: this.registry.attrRegistryName,
        schemaName: `${EVENT_SOURCE}@${contract.name}`,
        type: 'JSONSchemaDraft4',
        description: `${contract.detailType}: ${contract.description}`,
        content: JSON.stringify(eventJsonSchema(contract)),
      });
      schema.addResourceDependency(this.registry);
    }
  }
}

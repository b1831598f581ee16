/**
 * The contract of the events on the bus: one zod schema per detail type. The same schemas are
 * published as JSON Schema (draft 4, which EventBridge's schema registry accepts) by the CDK stack
 * (infra/constructs/event-schemas.ts) and rendered into docs/EVENTS.md (`npm run docs:events`;
 * a unit test keeps the file equal to the generated text), and a unit test checks that what
 * lib/events/events.ts and the stuck detector publish matches them.
 */

import { ATTEMPT_STATUSES, BUILD_STATUSES } from '../builds/build.model';
import * as z from '../zod';
import { DETAIL_TYPES, type DetailType, EVENT_SOURCE } from './events';

const attemptStatus = z.nullable(z.enum(ATTEMPT_STATUSES));
const buildStatus = z.enum(BUILD_STATUSES);
const timestamp = z.string().check(z.meta({ description: 'ISO 8601 UTC timestamp' }));
/** Copied from the build (null for history written before v0.7). */
const buildRefs = {
  build_id: z.string(),
  project_id: z.nullable(z.string()),
  platform_id: z.nullable(z.string()),
  image_type_id: z.nullable(z.string()),
  parent_id: z
    .optional(z.string())
    .check(z.meta({ description: "Present on every event of a fork's child: its parent build" })),
};
const position = (what: string) =>
  z
    .strictObject({ state: z.int(), state_status: attemptStatus, build_status: z.nullable(buildStatus) })
    .check(z.meta({ description: what }));

export const stateChangedDetailSchema = z.strictObject({
  dedup_key: z
    .string()
    .check(z.meta({ description: '<build_id>:<version>: unique per change; de-duplicate on it' })),
  ...buildRefs,
  version: z
    .int()
    .check(z.meta({ description: "The build version the change produced (the history entry's seq)" })),
  change: z
    .enum([
      'build_created',
      'state_reported',
      'build_unblocked',
      'build_cancelled',
      'forked',
      'build_revoked',
      'build_restored',
      'family_status',
    ])
    .check(z.meta({ description: "family_status: a fork parent's status follows its children (API.md)" })),
  from: position('Where the build was'),
  to: position('Where the build is now'),
  attempt: z.int().check(z.meta({ description: 'Attempt number of to.state' })),
  actor: z.string().check(z.meta({ description: 'Who made the change (key:…, user:…, oidc:…, iam:…)' })),
  worker_id: z.nullable(z.string()),
  error: z.nullable(z.string()),
  error_code: z.optional(
    z.string().check(
      z.meta({
        description:
          'Why a failed attempt failed, when the service recorded it: worker_lost (its worker died and another worker took over; worker_id is the dead one)',
      }),
    ),
  ),
  reason: z.nullable(z.string()).check(z.meta({ description: 'Given with unblock and cancel' })),
  occurred_at: timestamp,
});

export const retryLoopDetailSchema = z.strictObject({
  dedup_key: z.string().check(z.meta({ description: '<build_id>:<version>:retry-loop' })),
  ...buildRefs,
  version: z.int(),
  state_code: z.int(),
  attempt: z.int(),
  consecutive_failures: z
    .int()
    .check(z.meta({ description: 'Failed attempts in a row with this same error' })),
  error: z.nullable(z.string()),
  build_status: buildStatus,
  worker_id: z.nullable(z.string()),
  occurred_at: timestamp,
});

export const stuckDetailSchema = z.strictObject({
  dedup_key: z.string().check(z.meta({ description: '<build_id>:stuck:<kind>:<state_code>:<attempt>' })),
  kind: z.enum(['silent', 'overdue']),
  build_id: z.string(),
  project_id: z.string(),
  platform_id: z.string(),
  image_type_id: z.string(),
  state_code: z.int(),
  state_name: z.nullable(z.string()),
  attempt: z.int(),
  attempt_started_at: timestamp,
  last_heartbeat_at: timestamp,
  running_s: z.int(),
  silent_s: z.int(),
  overdue_after_s: z.nullable(z.number()).check(z.meta({ description: 'factor × yardstick' })),
  yardstick: z.nullable(
    z.strictObject({ seconds: z.number(), source: z.enum(['p95', 'expected_duration_s']) }),
  ),
  lease_worker_id: z.nullable(z.string()),
  last_worker_id: z.nullable(z.string()),
  detected_at: timestamp,
});

export const forkedDetailSchema = z.strictObject({
  dedup_key: z.string().check(z.meta({ description: '<child build_id>:1:forked' })),
  ...buildRefs,
  parent_id: z.string().check(z.meta({ description: 'The build the child was forked from' })),
  parent_version: z.nullable(z.int()).check(z.meta({ description: "The parent's version at the fork" })),
  at_state: z.int().check(z.meta({ description: "The parent's state the child starts after" })),
  actor: z.string(),
  occurred_at: timestamp,
});

export const imagePublishedDetailSchema = z.strictObject({
  dedup_key: z.string().check(z.meta({ description: '<build_id>:image:<cloud>:<region>:<image_id>' })),
  build_id: z.string(),
  cloud: z.string(),
  region: z.string(),
  image_id: z.string(),
  name: z.nullable(z.string()),
  account: z.nullable(z.string()),
  published_by: z.string(),
  occurred_at: timestamp,
});

export const channelUpdatedDetailSchema = z.strictObject({
  dedup_key: z.string().check(z.meta({ description: 'channel:<name>:<version>' })),
  channel: z.string(),
  version: z.int().check(z.meta({ description: "The assignment's number in the channel's history" })),
  build_id: z.string().check(z.meta({ description: 'The build the channel now points at' })),
  previous_build_id: z.nullable(z.string()),
  reason: z.nullable(z.string()),
  assigned_by: z.string(),
  occurred_at: timestamp,
});

const lineageChange = (what: string) =>
  z.strictObject({
    dedup_key: z.string().check(z.meta({ description: `<build_id>:<version>:${what}` })),
    build_id: z.string(),
    version: z.int().check(z.meta({ description: 'The build version this change produced' })),
    revocation_id: z.string(),
    root_id: z
      .string()
      .check(z.meta({ description: 'The build the revocation was asked for (this one, or an ancestor)' })),
    reason: z.nullable(z.string()),
    actor: z.string(),
    occurred_at: timestamp,
  });
export const revokedDetailSchema = lineageChange('revoked');
export const restoredDetailSchema = lineageChange('restored');

export const familyCompletedDetailSchema = z.strictObject({
  dedup_key: z.string().check(z.meta({ description: '<parent build_id>:<version>:family-completed' })),
  ...buildRefs,
  version: z.int().check(z.meta({ description: "The parent's version the completion produced" })),
  children: z.strictObject({ total: z.int(), by_status: z.record(z.string(), z.int()) }).check(
    z.meta({
      description: 'The children when the family completed (completed, and cancelled ones if any)',
    }),
  ),
  occurred_at: timestamp,
});

export const provenanceSignedDetailSchema = z.strictObject({
  dedup_key: z.string().check(z.meta({ description: '<build_id>:provenance' })),
  build_id: z.string(),
  keyid: z.string().check(z.meta({ description: 'Hex SHA-256 of the signing public key (DER SPKI)' })),
  object_key: z.string().check(
    z.meta({
      description: "The envelope's key in the artifacts bucket (builds/<id>/provenance.intoto.json)",
    }),
  ),
  payload_sha256: z.string().check(z.meta({ description: "Hex SHA-256 of the envelope's decoded payload" })),
  subjects: z.int().check(z.meta({ description: 'How many subjects the statement names' })),
  signed_at: timestamp,
});

export interface EventContract {
  detailType: DetailType;
  /** The registry schema's name: the detail type without spaces, e.g. BuildStateChanged. */
  name: string;
  description: string;
  detail: z.ZodMiniType;
}

export const EVENT_CONTRACTS: readonly EventContract[] = [
  {
    detailType: DETAIL_TYPES.stateChanged,
    name: 'BuildStateChanged',
    description: 'One per committed change of a build (history entry)',
    detail: stateChangedDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.stuck,
    name: 'BuildStateStuck',
    description: 'A running attempt went silent or overdue (once per attempt and kind)',
    detail: stuckDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.retryLoop,
    name: 'BuildRetryLoop',
    description: 'A state failed again with the same error as the attempt before',
    detail: retryLoopDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.forked,
    name: 'BuildForked',
    description: "A child was forked from a parent build (one per child; the child's first change)",
    detail: forkedDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.imagePublished,
    name: 'ImagePublished',
    description: 'A build recorded a published image (POST /builds/{id}/images); once per image',
    detail: imagePublishedDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.channelUpdated,
    name: 'ChannelUpdated',
    description: 'A channel was assigned a build (PUT /channels/{name}); one per assignment',
    detail: channelUpdatedDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.revoked,
    name: 'BuildRevoked',
    description:
      'A build was marked revoked, itself or by the cascade from an ancestor; one per build marked',
    detail: revokedDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.restored,
    name: 'BuildRestored',
    description: "A build's revocation was undone (POST /builds/{id}/restore); one per build restored",
    detail: restoredDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.familyCompleted,
    name: 'BuildFamilyCompleted',
    description:
      "A fork parent's children all finished (completed, or cancelled): the parent is completed (once per family completion)",
    detail: familyCompletedDetailSchema,
  },
  {
    detailType: DETAIL_TYPES.provenanceSigned,
    name: 'ProvenanceSigned',
    description:
      "A completed build's SLSA provenance was signed and stored beside its artifacts (once per build; docs/PROVENANCE.md)",
    detail: provenanceSignedDetailSchema,
  },
];

/** The detail alone as JSON Schema draft 4. */
export function detailJsonSchema(contract: EventContract): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(contract.detail, { target: 'draft-4', io: 'output' });
  return json;
}

/**
 * The whole EventBridge event as JSON Schema draft 4 (schema type JSONSchemaDraft4 of the
 * registry): the envelope EventBridge adds, with this source, detail type and detail.
 */
export function eventJsonSchema(contract: EventContract): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: contract.name,
    description: `${contract.detailType}: ${contract.description}`,
    type: 'object',
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      'detail-type': { type: 'string', enum: [contract.detailType] },
      source: { type: 'string', enum: [EVENT_SOURCE] },
      account: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      detail: detailJsonSchema(contract),
    },
    required: ['detail-type', 'source', 'detail'],
  };
}

const fence = '```';
/** The generated part of docs/EVENTS.md: each event's detail schema, from the zod schemas above. */
export function eventsMarkdown(): string {
  const parts = [
    '<!-- BEGIN GENERATED: event schemas (npm run docs:events; do not edit by hand) -->',
    '## Event schemas',
    '',
    'The JSON Schema (draft 4) of each event detail, as the `buildstate` schema registry of the',
    'stack publishes them (`aws schemas describe-schema --registry-name <EventSchemaRegistry output>',
    '--schema-name buildstate@<name>`, the whole event there). Generated from `lib/events/event.schema.ts`.',
  ];
  for (const contract of EVENT_CONTRACTS) {
    parts.push(
      '',
      `### ${contract.detailType} (\`buildstate@${contract.name}\`)`,
      '',
      `${contract.description}.`,
      '',
      `${fence}json`,
      JSON.stringify(detailJsonSchema(contract), null, 2),
      fence,
    );
  }
  parts.push('<!-- END GENERATED: event schemas -->');
  return `${parts.join('\n')}\n`;
}

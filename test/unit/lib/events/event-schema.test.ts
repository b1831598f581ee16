/** The event contracts: what the mapping publishes matches them, and docs/EVENTS.md shows them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyReport } from '../../../../lib/builds/transitions';
import {
  EVENT_CONTRACTS,
  eventJsonSchema,
  eventsMarkdown,
  stuckDetailSchema,
} from '../../../../lib/events/event.schema';
import { DETAIL_TYPES, eventsFromItem } from '../../../../lib/events/events';
import { buildAt, ctx } from '../../../helpers/builds';

const contractOf = (detailType: string) => EVENT_CONTRACTS.find((c) => c.detailType === detailType)!;

it('covers every detail type on the bus, once', () => {
  expect(EVENT_CONTRACTS.map((c) => c.detailType).sort()).toEqual(Object.values(DETAIL_TYPES).sort());
});

it('matches what the stream mapping publishes for a change and a retry loop', () => {
  const failedOnce = buildAt({ current_state: 50, state_status: 'failed', status: 'failed', attempt: 1 });
  const before = { ...failedOnce, error_streak: 1, streak_error: 'ldap', last_error: 'ldap', version: 7 };
  const change = applyReport(before, { state_code: 50, status: 'failed', error: 'ldap' }, ctx());
  const events = eventsFromItem({ type: 'history', ...change.history }, { retryLoopAfter: 2 });
  expect(events.map((e) => e.detailType)).toEqual([DETAIL_TYPES.stateChanged, DETAIL_TYPES.retryLoop]);
  for (const event of events)
    expect(() => contractOf(event.detailType).detail.parse(event.detail)).not.toThrow();
  // Strict: a field the contract does not name is refused.
  expect(() =>
    contractOf(DETAIL_TYPES.stateChanged).detail.parse({ ...events[0]!.detail, extra: 1 }),
  ).toThrow();
});

it('describes the stuck detail the outbox writes', () => {
  const detail = {
    dedup_key: 'b:stuck:silent:50:1',
    kind: 'silent',
    build_id: 'b',
    project_id: 'default',
    platform_id: 'aws',
    image_type_id: 'rhel9',
    state_code: 50,
    state_name: 'User management and authentication',
    attempt: 1,
    attempt_started_at: '2026-11-22T20:00:00.000Z',
    last_heartbeat_at: '2026-11-22T20:02:00.000Z',
    running_s: 1380,
    silent_s: 1260,
    overdue_after_s: null,
    yardstick: null,
    lease_worker_id: 'packer-7',
    last_worker_id: 'packer-7',
    detected_at: '2026-11-22T20:23:00.000Z',
  };
  expect(stuckDetailSchema.parse(detail)).toEqual(detail);
});

it('publishes JSON Schema draft 4 of the whole event, with the envelope EventBridge adds', () => {
  for (const contract of EVENT_CONTRACTS) {
    const schema = eventJsonSchema(contract) as {
      $schema: string;
      properties: Record<string, { enum?: string[] }>;
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(schema.properties['detail-type']!.enum).toEqual([contract.detailType]);
    expect(schema.properties.source!.enum).toEqual(['buildstate']);
    expect(JSON.stringify(schema)).not.toMatch(/"const"|"\$defs"|prefixItems/); // draft-4 keywords only
  }
});

it('is rendered into docs/EVENTS.md exactly (npm run docs:events)', () => {
  const doc = readFileSync(join(__dirname, '../../../../docs/EVENTS.md'), 'utf8');
  const start = doc.indexOf('<!-- BEGIN GENERATED: event schemas');
  const end = doc.indexOf('<!-- END GENERATED: event schemas -->');
  expect(start).toBeGreaterThan(0);
  expect(doc.slice(start, end + '<!-- END GENERATED: event schemas -->\n'.length)).toBe(eventsMarkdown());
});

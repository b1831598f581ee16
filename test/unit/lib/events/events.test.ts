/** From committed items to events, and the stream publisher's retry contract (EventBridge stubbed). */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { publisher } from '../../../../functions/events/publish';
import { applyReport, newBuild } from '../../../../lib/builds/transitions';
import { eventsFromItem } from '../../../../lib/events/events';
import { buildAt, ctx } from '../../../helpers/builds';

const history = (entry: object) => ({ pk: 'BUILD#b-1', sk: 'HIST#x', type: 'history', ...entry });
const options = { retryLoopAfter: 2 };

describe('eventsFromItem', () => {
  it('publishes a takeover as two changes: the lost attempt (failed, worker_lost) and the new attempt', () => {
    const before = buildAt({
      current_state: 25,
      state_status: 'in_progress',
      status: 'in_progress',
      attempt: 1,
      attempt_lease_id: 'L1',
      lease_id: 'L2',
      last_worker_id: 'vm-dead',
      version: 4,
    });
    const change = applyReport(
      before,
      { state_code: 25, status: 'in_progress', worker_id: 'vm-2' },
      ctx({ leaseId: 'L2' }),
    );
    const events = [...change.earlier!, change.history].flatMap((h) => eventsFromItem(history(h), options));
    expect(events.map((e) => [e.detail.dedup_key, e.detail.worker_id, e.detail.error_code])).toEqual([
      ['b-1:5', 'vm-dead', 'worker_lost'],
      ['b-1:6', 'vm-2', undefined],
    ]);
    expect(events[0]!.detail).toMatchObject({
      to: { state: 25, state_status: 'failed', build_status: 'failed' },
      attempt: 1,
    });
  });

  it('turns a history item into one Build State Changed with from/to and a dedup key', () => {
    const before = buildAt({
      current_state: 25,
      state_status: 'completed',
      status: 'in_progress',
      version: 4,
    });
    const change = applyReport(before, { state_code: 50, status: 'in_progress', worker_id: 'w' }, ctx());
    const [event, ...rest] = eventsFromItem(history(change.history), options);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      source: 'buildstate',
      detailType: 'Build State Changed',
      detail: {
        dedup_key: 'b-1:5',
        build_id: 'b-1',
        project_id: 'default',
        platform_id: 'aws',
        image_type_id: 'rhel9',
        version: 5,
        change: 'state_reported',
        from: { state: 25, state_status: 'completed', build_status: 'in_progress' },
        to: { state: 50, state_status: 'in_progress', build_status: 'in_progress' },
        attempt: 1,
        worker_id: 'w',
      },
    });
  });

  it('adds a Build Retry Loop only from the second identical failure in a row', () => {
    let build = newBuild(
      'b-1',
      { project_id: 'default', platform_id: 'aws', image_type_id: 'x', metadata: {} },
      ctx(),
    ).build;
    const loops: number[] = [];
    const step = (status: 'in_progress' | 'failed', error?: string) => {
      const change = applyReport(
        build,
        { state_code: 50, status, ...(error ? { error } : {}) },
        {
          ...ctx(),
          defaultMaxAttempts: 10,
        },
      );
      build = change.build;
      const events = eventsFromItem(history(change.history), options);
      if (events.some((e) => e.detailType === 'Build Retry Loop')) loops.push(change.history.attempt);
    };
    step('in_progress');
    step('failed', 'ldap timeout'); // attempt 1: streak 1
    step('in_progress');
    step('failed', 'ldap timeout'); // attempt 2: streak 2 → loop
    step('failed', 'disk full'); // attempt 3: another error, streak 1
    step('failed', 'disk full'); // attempt 4: streak 2 → loop
    step('failed', 'disk full'); // attempt 5: streak 3 → loop
    expect(loops).toEqual([2, 4, 5]);
    expect(build.error_streak).toBe(3);
  });

  it('passes outbox items through and ignores everything else', () => {
    const detail = { dedup_key: 'b:stuck:silent:5:1', build_id: 'b', kind: 'silent' };
    expect(
      eventsFromItem({ type: 'event', detail_type: 'Build State Stuck', detail, created_at: 't' }, options),
    ).toEqual([{ source: 'buildstate', detailType: 'Build State Stuck', detail, time: 't' }]);
    for (const type of ['build', 'live', 'artifact', undefined])
      expect(eventsFromItem({ type }, options)).toEqual([]);
  });
});

describe('the stream publisher', () => {
  const record = (seq: string, item: Record<string, unknown>) => ({
    eventName: 'INSERT' as const,
    dynamodb: { SequenceNumber: seq, NewImage: marshall(item, { removeUndefinedValues: true }) as never },
  });
  const created = newBuild(
    'b-1',
    { project_id: 'default', platform_id: 'aws', image_type_id: 'x', metadata: {} },
    ctx(),
  );
  const event = {
    Records: [
      record('1', history(created.history)),
      { eventName: 'MODIFY' as const, dynamodb: { SequenceNumber: '2' } },
      record('3', history({ ...created.history, seq: 2 })),
      record('4', { type: 'build' }),
    ],
  } as unknown as DynamoDBStreamEvent;

  it('puts one event per inserted history item on the bus', async () => {
    const sent: { operation: string; input: { Entries: PutEventsRequestEntry[] } }[] = [];
    const client = {
      send: async (command: {
        constructor: { name: string };
        input: { Entries: PutEventsRequestEntry[] };
      }) => {
        sent.push({ operation: command.constructor.name, input: command.input });
        return { Entries: [{ EventId: 'e' }] };
      },
    };
    const result = await publisher(client as never, 'bus', options)(event);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent.map((c) => c.operation)).toEqual(['PutEventsCommand', 'PutEventsCommand']);
    expect(sent.map((c) => c.input.Entries!.map((e) => [e.EventBusName, e.Source, e.DetailType]))).toEqual([
      [['bus', 'buildstate', 'Build State Changed']],
      [['bus', 'buildstate', 'Build State Changed']],
    ]);
    expect(JSON.parse(sent[1]!.input.Entries![0]!.Detail!).dedup_key).toBe('b-1:2');
  });

  it('reports the first record whose events were refused, so Lambda retries from it', async () => {
    let calls = 0;
    const client = {
      send: async () =>
        ++calls === 2 ? { Entries: [{ ErrorCode: 'ThrottlingException' }] } : { Entries: [{}] },
    };
    expect(await publisher(client as never, 'bus', options)(event)).toEqual({
      batchItemFailures: [{ itemIdentifier: '3' }],
    });
    const down = { send: async () => Promise.reject(new Error('network')) };
    expect(await publisher(down as never, 'bus', options)(event)).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
    });
  });
});

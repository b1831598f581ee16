/**
 * The events BuildState publishes, and the one mapping from committed table items to them.
 * Every event comes from the table's change stream: a history item (a committed change) or an
 * outbox item (written by the stuck detector with a conditional flag). So an event is never
 * published for a change that did not commit, and a stream that is read to the end never loses
 * one. Delivery is at least once: consumers de-duplicate on `detail.dedup_key`.
 * docs/EVENTS.md documents each detail and gives EventBridge rule patterns.
 */
import type { HistoryEntry } from '../builds/build.model';

export const EVENT_SOURCE = 'buildstate';
export const DETAIL_TYPES = {
  stateChanged: 'Build State Changed',
  stuck: 'Build State Stuck',
  retryLoop: 'Build Retry Loop',
  forked: 'Build Forked',
  imagePublished: 'Image Published',
  channelUpdated: 'Channel Updated',
  revoked: 'Build Revoked',
  restored: 'Build Restored',
  familyCompleted: 'Build Family Completed',
  provenanceSigned: 'Provenance Signed',
} as const;
export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

export interface BusEvent {
  source: typeof EVENT_SOURCE;
  detailType: DetailType;
  detail: Record<string, unknown> & { dedup_key: string; build_id: string };
  /** When the change happened (the history item's recorded_at). */
  time: string;
}

/** The item types whose stream inserts become events (the AWS event-source filter and the local poller use it). */
export const PUBLISHED_ITEM_TYPES = ['history', 'event'] as const;

/** Sort key prefix of outbox items under a build's partition. */
export const OUTBOX_PREFIX = 'EVENT#';
/** Outbox items are removed by TTL after this long; their stream record was read long before. */
export const OUTBOX_TTL_SECONDS = 14 * 86400;

export interface EventOptions {
  /** Consecutive same-error failures of one state that make a Build Retry Loop event. */
  retryLoopAfter: number;
}

/**
 * The events of one newly inserted item (stream INSERT, NewImage unmarshalled); none for
 * anything else. Pure: the Lambda publisher and the local stream poller both call it.
 */
export function eventsFromItem(item: Record<string, unknown>, options: EventOptions): BusEvent[] {
  if (item.type === 'history') return historyEvents(item as unknown as HistoryEntry, options);
  if (item.type === 'event' && typeof item.detail_type === 'string' && item.detail) {
    const detail = item.detail as BusEvent['detail'];
    return [
      {
        source: EVENT_SOURCE,
        detailType: item.detail_type as DetailType,
        detail,
        time: String(item.created_at ?? new Date().toISOString()),
      },
    ];
  }
  return [];
}

function historyEvents(h: HistoryEntry, options: EventOptions): BusEvent[] {
  const base = {
    build_id: h.build_id,
    project_id: h.project_id ?? null,
    platform_id: h.platform_id ?? null,
    image_type_id: h.image_type_id ?? null,
    ...(h.parent_id ? { parent_id: h.parent_id } : {}),
  };
  const events: BusEvent[] = [
    {
      source: EVENT_SOURCE,
      detailType: DETAIL_TYPES.stateChanged,
      time: h.recorded_at,
      detail: {
        dedup_key: `${h.build_id}:${h.seq}`,
        ...base,
        version: h.seq,
        change: h.event,
        from: { state: h.from_state, state_status: h.from_state_status, build_status: h.from_build_status },
        to: { state: h.state_code, state_status: h.status, build_status: h.build_status },
        attempt: h.attempt,
        actor: h.actor,
        worker_id: h.worker_id,
        error: h.error,
        ...(h.error_code ? { error_code: h.error_code } : {}),
        reason: h.reason,
        occurred_at: h.recorded_at,
      },
    },
  ];
  if (h.event === 'forked' && h.parent_id) {
    events.push({
      source: EVENT_SOURCE,
      detailType: DETAIL_TYPES.forked,
      time: h.recorded_at,
      detail: {
        dedup_key: `${h.build_id}:${h.seq}:forked`,
        ...base,
        parent_id: h.parent_id,
        parent_version: h.parent_version ?? null,
        at_state: h.state_code,
        actor: h.actor,
        occurred_at: h.recorded_at,
      },
    });
  }
  if (h.event === 'family_status' && h.build_status === 'completed') {
    const children = (h.metadata?.children ?? {}) as { total?: number; by_status?: Record<string, number> };
    events.push({
      source: EVENT_SOURCE,
      detailType: DETAIL_TYPES.familyCompleted,
      time: h.recorded_at,
      detail: {
        dedup_key: `${h.build_id}:${h.seq}:family-completed`,
        ...base,
        version: h.seq,
        children: { total: children.total ?? 0, by_status: children.by_status ?? {} },
        occurred_at: h.recorded_at,
      },
    });
  }
  if (h.status === 'failed' && (h.error_streak ?? 0) >= options.retryLoopAfter) {
    events.push({
      source: EVENT_SOURCE,
      detailType: DETAIL_TYPES.retryLoop,
      time: h.recorded_at,
      detail: {
        dedup_key: `${h.build_id}:${h.seq}:retry-loop`,
        ...base,
        version: h.seq,
        state_code: h.state_code,
        attempt: h.attempt,
        consecutive_failures: h.error_streak,
        error: h.error,
        build_status: h.build_status,
        worker_id: h.worker_id,
        occurred_at: h.recorded_at,
      },
    });
  }
  return events;
}

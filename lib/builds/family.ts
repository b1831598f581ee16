/**
 * A fork family has an end: a parent whose own states stopped at the fork takes its status from
 * its children (docs/API.md#a-familys-status).
 *
 * The rule (`familyStatus`, over the children's statuses as the parent's roll-up counts them):
 *   - any child pending or in_progress        → in_progress (the family is still working)
 *   - else every child cancelled               → cancelled
 *   - else any child blocked                   → blocked (a person must look)
 *   - else any child failed                    → failed (a child waits for its retry)
 *   - else (all completed, or cancelled)       → completed
 * Cancelled children are left out unless all are cancelled.
 *
 * Who writes it: the stream aggregator, after it applied a child's status to the roll-up (or found
 * it applied before: a redelivery after a crash still settles the parent). `settle` reads the
 * roll-up and the parent (consistent reads) and, when the rule gives another status, commits the
 * parent's new status with a `family_status` history entry in one transaction conditioned on the
 * parent's version. Children finishing at once are applied by concurrent consumers or in one
 * batch; every settle that sees the last child done computes the same change from the same
 * parent version, and exactly one of them commits (the others are refused on the version, read
 * again, and find nothing to do), so a family completes once: one history entry, one event.
 * Why not in the child's report: every report of every child would then contend on the parent
 * item (one hot item per family, conflicts retried in the report's latency), and the reports'
 * transactions, which today touch only their own build, would share an item.
 *
 * When the parent follows: it has children, is not cancelled, and has not changed since it fanned
 * out (its live item's fanned_out_version is its version) or since its last family change
 * (family_version is its version). A parent that reports, is unblocked or cancelled after the
 * fork is on its own again.
 */

import { type DocumentClient, GetCommand } from '../db/commands';
import { type Build, type BuildStatus, type Change, COUNTED_BY_STREAM } from './build.model';
import { BUILD_PART, BuildRepository } from './build.repository';
import { FANNED_OUT, LIVE_PART, liveKey, liveUpdate } from './live.item';

/** The actor of a family status change: the service itself. */
export const FAMILY_ACTOR = 'service:family';

/** Children by status, as the roll-up (`BUILD#<parent>` / `CHILDREN`) counts them. */
export type ChildCounts = Partial<Record<BuildStatus, number>>;

export function childCounts(rollup: Record<string, unknown> | null): ChildCounts {
  const counts: ChildCounts = {};
  for (const [name, value] of Object.entries(rollup ?? {})) {
    const m = /^status:([a-z_]+)$/.exec(name);
    if (m && typeof value === 'number' && value > 0) counts[m[1] as BuildStatus] = value;
  }
  return counts;
}

/** The family's status by the rule above; null when there are no children. */
export function familyStatus(counts: ChildCounts): BuildStatus | null {
  const n = (s: BuildStatus) => counts[s] ?? 0;
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  if (total === 0) return null;
  if (n('pending') + n('in_progress') > 0) return 'in_progress';
  if (n('cancelled') === total) return 'cancelled';
  if (n('blocked') > 0) return 'blocked';
  if (n('failed') > 0) return 'failed';
  return 'completed';
}

/** Whether the parent's status follows its children now (see above). */
export function followsChildren(parent: Build, fannedOutVersion: number | undefined): boolean {
  if (parent.status === 'cancelled' && parent.family_version !== parent.version) return false;
  return parent.version === fannedOutVersion || parent.version === parent.family_version;
}

/** The parent's change to `status`: a new version and its `family_status` history entry. */
export function applyFamilyStatus(
  parent: Build,
  status: BuildStatus,
  counts: ChildCounts,
  now: string,
): Change {
  const version = parent.version + 1;
  const next: Build = {
    ...parent,
    status,
    version,
    family_version: version,
    updated_at: now,
    completed_at: status === 'completed' ? now : null,
    cancelled_at: status === 'cancelled' ? now : parent.cancelled_at,
  };
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  const summary = Object.entries(counts)
    .map(([s, k]) => `${k} ${s}`)
    .join(', ');
  return {
    build: next,
    history: {
      build_id: parent.id,
      project_id: parent.project_id,
      platform_id: parent.platform_id,
      image_type_id: parent.image_type_id,
      ...(parent.parent_id ? { parent_id: parent.parent_id } : {}),
      seq: version,
      counted_by: COUNTED_BY_STREAM,
      event: 'family_status',
      state_code: parent.current_state,
      status: null,
      attempt: parent.attempt,
      build_status: status,
      from_state: parent.current_state,
      from_state_status: parent.state_status,
      from_build_status: parent.status,
      message: `The family is ${status}: ${total} children (${summary})`,
      error: null,
      reason: null,
      worker_id: null,
      metadata: { children: { total, by_status: counts } },
      actor: FAMILY_ACTOR,
      recorded_at: now,
    },
  };
}

/** Version races before a settle gives up (the batch is retried then). */
const MAX_RACES = 8;

export class FamilySettler {
  private readonly builds: BuildRepository;

  constructor(
    private readonly db: DocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.builds = new BuildRepository(db, tableName);
  }

  /** Brings the parent's status to its family's; returns the status written, or null if none was. */
  async settle(parentId: string): Promise<BuildStatus | null> {
    for (let race = 0; race < MAX_RACES; race++) {
      const [parent, rollup, live] = await Promise.all([
        this.builds.get(parentId),
        this.builds.rollup(parentId),
        this.db.send(
          new GetCommand({ TableName: this.tableName, Key: liveKey(parentId), ConsistentRead: true }),
        ),
      ]);
      if (!parent) return null;
      const mark = live.Item?.[FANNED_OUT];
      if (!followsChildren(parent, typeof mark === 'number' ? mark : undefined)) return null;
      const counts = childCounts(rollup);
      const status = familyStatus(counts);
      if (!status || status === parent.status) return null;
      const change = applyFamilyStatus(parent, status, counts, this.now().toISOString());
      const tx = this.builds
        .changeTransaction(change, parent)
        .add(LIVE_PART, liveUpdate(this.tableName, change.build));
      const result = await this.builds.commit(tx);
      if (result.committed) return status;
      // Another settle (or the parent's own change) moved the version: read again and decide again.
      if (!result.failed.has(BUILD_PART) && !result.conflict)
        throw new Error(`family status of '${parentId}' refused by [${[...result.failed]}]`);
      await new Promise((r) => setTimeout(r, Math.random() * 20 * (race + 1)));
    }
    throw new Error(`family status of '${parentId}': the parent kept changing`);
  }
}

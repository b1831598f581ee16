/**
 * Pure rules of revocation: the build change a revocation or a restore makes (a new version and
 * its history entry; position and status unchanged), and the 409 a revoked build answers.
 */
import type { Build, Change, HistoryEntry } from '../builds/build.model';
import { COUNTED_BY_STREAM } from '../builds/build.model';
import { AppError } from '../errors';
import type { Marker, Revocation } from './lineage.repository';

export interface LineageContext {
  now: string;
  actor: string;
}

export function revokedChange(build: Build, revocation: Revocation, ctx: LineageContext): Change {
  const next: Build = {
    ...build,
    version: build.version + 1,
    updated_at: ctx.now,
    revoked_at: revocation.revoked_at,
    revoked_reason: revocation.reason,
    revoked_by: revocation.revoked_by,
    revocation_id: revocation.revocation_id,
    revoked_root_id: revocation.root_id,
  };
  return {
    build: next,
    history: entry(build, next, ctx, 'build_revoked', revocation.reason, {
      revocation_id: revocation.revocation_id,
      root_id: revocation.root_id,
    }),
  };
}

export function restoredChange(
  build: Build,
  revocationId: string,
  reason: string | null,
  ctx: LineageContext,
): Change {
  const next: Build = {
    ...build,
    version: build.version + 1,
    updated_at: ctx.now,
    revoked_at: null,
    revoked_reason: null,
    revoked_by: null,
    revocation_id: null,
    revoked_root_id: null,
  };
  return {
    build: next,
    history: entry(build, next, ctx, 'build_restored', reason, { revocation_id: revocationId }),
  };
}

function entry(
  before: Build,
  after: Build,
  ctx: LineageContext,
  event: 'build_revoked' | 'build_restored',
  reason: string | null,
  metadata: Record<string, unknown>,
): HistoryEntry {
  return {
    build_id: after.id,
    project_id: after.project_id,
    platform_id: after.platform_id,
    image_type_id: after.image_type_id,
    ...(after.parent_id ? { parent_id: after.parent_id } : {}),
    seq: after.version,
    counted_by: COUNTED_BY_STREAM,
    event,
    state_code: after.current_state,
    status: null,
    attempt: after.attempt,
    build_status: after.status,
    from_state: before.current_state,
    from_state_status: before.state_status,
    from_build_status: before.status,
    message: null,
    error: null,
    reason,
    worker_id: null,
    metadata,
    actor: ctx.actor,
    recorded_at: ctx.now,
  };
}

/** 409 `revoked`: naming the revoked build (the one asked about, or the ancestor that makes it so) and why. */
export function revokedError(
  buildId: string,
  revokedId: string,
  marker: Marker | null | undefined,
): AppError {
  const why = marker?.reason ? `: ${marker.reason}` : '';
  const message =
    buildId === revokedId
      ? `Build '${buildId}' is revoked${why}`
      : `Build '${buildId}' descends from revoked build '${revokedId}'${why}`;
  return new AppError('revoked', message, {
    build_id: buildId,
    revoked_build_id: revokedId,
    reason: marker?.reason ?? null,
    revoked_at: marker?.revoked_at ?? null,
    revoked_by: marker?.revoked_by ?? null,
    revocation_id: marker?.revocation_id ?? null,
  });
}

/** The first of `ids` (in order) whose marker says revoked. */
export function firstRevoked(ids: readonly string[], markers: Map<string, Marker>): string | undefined {
  return ids.find((id) => markers.get(id)?.revoked_at);
}

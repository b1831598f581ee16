/**
 * The ancestry of new builds (the AncestryParts port of lib/builds/build.service.ts). A build's
 * ancestors are its fork parent and its base, and theirs, transitively; each new build records
 * them once and adds, in its own create transaction, an edge under every ancestor and a check
 * that no ancestor is revoked. So a build made before a revocation is in the revoked build's
 * partition when the cascade reads it, and one made after cannot commit.
 */

import type { Build } from '../builds/build.model';
import type { BuildRepository } from '../builds/build.repository';
import type { AncestryParts } from '../builds/build.service';
import type { TransactItem } from '../db/transaction';
import { AppError } from '../errors';
import { type Ancestry as AncestryRecord, type LineageRepository, UNREVOKED } from './lineage.repository';
import { firstRevoked, revokedError } from './revocation.rules';

/**
 * Ancestors one build may have: each costs its create transaction two items (an edge and a
 * check), and a transaction holds 100 (docs/DATA-MODEL.md).
 */
export const MAX_ANCESTORS = 40;

export class Ancestry implements AncestryParts {
  constructor(
    private readonly lineage: LineageRepository,
    private readonly builds: BuildRepository,
  ) {}

  async prepare(from: {
    parent_id?: string | null;
    base_build_id?: string | null;
  }): Promise<((build: Build) => Record<string, TransactItem>) | undefined> {
    const parentId = from.parent_id ?? null;
    const baseId = from.base_build_id ?? null;
    if (!parentId && !baseId) return undefined;
    if (baseId && !(await this.builds.get(baseId)))
      throw new AppError('unknown_reference', `base_build_id '${baseId}' is not a build`, {
        field: 'base_build_id',
        build_id: baseId,
      });
    const directs = [parentId, baseId].filter((id): id is string => !!id);
    const ancestors: string[] = [...directs];
    for (const id of directs) ancestors.push(...((await this.lineage.ancestry(id))?.ancestors ?? []));
    const unique = [...new Set(ancestors)];
    if (unique.length > MAX_ANCESTORS)
      throw new AppError(
        'validation_error',
        `A build may descend from at most ${MAX_ANCESTORS} builds; this one would have ${unique.length}`,
        { field: baseId ? 'base_build_id' : 'parent_id', ancestors: unique.length, limit: MAX_ANCESTORS },
      );
    const markers = await this.lineage.markers(unique);
    const revoked = firstRevoked(unique, markers);
    if (revoked) throw revokedError(directs[0]!, revoked, markers.get(revoked));
    return (build) => {
      const record: AncestryRecord = {
        build_id: build.id,
        parent_id: parentId,
        base_build_id: baseId,
        ancestors: unique,
      };
      return this.lineage.newBuildParts(record, build.created_at);
    };
  }

  async refused(failed: ReadonlySet<string>): Promise<AppError | undefined> {
    const part = [...failed].find((name) => name.startsWith(UNREVOKED));
    if (!part) return undefined;
    const id = part.slice(UNREVOKED.length);
    return revokedError(id, id, await this.lineage.marker(id));
  }
}

/** The family rule (lib/builds/family.ts, API.md "A family's status") as a table. */
import type { Build } from '../../../../lib/builds/build.model';
import { applyFamilyStatus, childCounts, familyStatus, followsChildren } from '../../../../lib/builds/family';

describe('familyStatus', () => {
  it.each([
    [{}, null],
    [{ pending: 1, completed: 5 }, 'in_progress'],
    [{ in_progress: 1, blocked: 2, failed: 1 }, 'in_progress'],
    [{ completed: 6 }, 'completed'],
    [{ completed: 5, cancelled: 1 }, 'completed'],
    [{ cancelled: 3 }, 'cancelled'],
    [{ completed: 4, failed: 1, blocked: 1 }, 'blocked'],
    [{ completed: 4, failed: 2 }, 'failed'],
    [{ blocked: 1, cancelled: 2 }, 'blocked'],
    [{ failed: 1, cancelled: 5 }, 'failed'],
  ])('children %j → parent %s', (counts, expected) => {
    expect(familyStatus(counts)).toBe(expected);
  });

  it('reads the roll-up item: status counters only, zeros left out', () => {
    expect(
      childCounts({
        total: 3,
        'status:completed': 2,
        'status:in_progress': 0,
        'status:failed': 1,
        'progress:100': 2,
      }),
    ).toEqual({ completed: 2, failed: 1 });
  });
});

const parent = (over: Partial<Build>): Build =>
  ({
    id: 'p',
    project_id: 'default',
    platform_id: 'aws',
    image_type_id: 'rhel9',
    current_state: 50,
    state_status: 'completed',
    status: 'in_progress',
    attempt: 1,
    version: 6,
    cancelled_at: null,
    ...over,
  }) as Build;

describe('followsChildren', () => {
  it.each([
    ['at the forked version', parent({}), 6, true],
    ['reported since the fork', parent({ version: 7 }), 6, false],
    ['at its last family change', parent({ version: 8, family_version: 8, status: 'blocked' }), 6, true],
    ['changed after its family change (unblocked)', parent({ version: 9, family_version: 8 }), 6, false],
    ['cancelled by a person', parent({ version: 6, status: 'cancelled' }), 6, false],
    ['never forked', parent({}), undefined, false],
  ])('%s', (_what, build, mark, expected) => {
    expect(followsChildren(build, mark)).toBe(expected);
  });
});

it('a family change is a new version with its own history entry', () => {
  const change = applyFamilyStatus(parent({}), 'completed', { completed: 2 }, '2026-12-07T00:00:00.000Z');
  expect(change.build).toMatchObject({
    status: 'completed',
    version: 7,
    family_version: 7,
    completed_at: '2026-12-07T00:00:00.000Z',
  });
  expect(change.history).toMatchObject({
    seq: 7,
    event: 'family_status',
    from_build_status: 'in_progress',
    build_status: 'completed',
    metadata: { children: { total: 2, by_status: { completed: 2 } } },
  });
});

import { forkBodyOf, inParallel, targetLabel } from '../../../cli/pipeline-run';
import { linePrefixer } from '../../../cli/runner';
import {
  changedLines,
  familyLines,
  familyOutcome,
  renderFamily,
  rollupLine,
} from '../../../cli/watch-family';
import type { BuildView } from '../../../lib/builds/build.view';

const plain = { color: false, width: 120 };
const build = (id: string, over: Partial<BuildView> = {}): BuildView => ({
  id,
  project_id: 'default',
  platform_id: 'aws-commercial',
  os_version_id: null,
  image_type_id: 'rhel9',
  build_number: null,
  description: null,
  metadata: {},
  current_state: 50,
  state_name: 'state 50',
  state_status: 'completed',
  status: 'in_progress',
  attempt: 1,
  max_attempts: 3,
  last_completed_state: 50,
  progress_percent: 50,
  last_worker_id: 'ci-7',
  last_error: null,
  version: 1,
  created_by: 'key:x',
  created_at: '2026-12-01T10:00:00.000Z',
  updated_at: '2026-12-01T10:00:00.000Z',
  started_at: null,
  completed_at: null,
  cancelled_at: null,
  parent_id: null,
  forked_at_state: null,
  work_avoided_s: 0,
  ...over,
});
const done = (id: string) =>
  build(id, {
    parent_id: 'base',
    current_state: 100,
    state_name: 'done',
    status: 'completed',
    progress_percent: 100,
  });

describe('watch PARENT, rendered', () => {
  const parent = build('base');
  const children = [
    done('base-use1'),
    build('base-euc1', {
      parent_id: 'base',
      current_state: 70,
      state_name: 'config',
      state_status: 'failed',
      status: 'failed',
      progress_percent: 60,
      last_error: 'exit code 7\nquota exceeded',
    }),
    build('r3', {
      parent_id: 'base',
      current_state: 60,
      state_name: 'copy',
      status: 'in_progress',
      progress_percent: 50,
    }),
  ];

  it("shows the parent's line, one bar per child (ids aligned) and the roll-up of the children shown", () => {
    expect(renderFamily(plain, parent, children)).toBe(
      [
        'base  [##########..........]  50%  state 50 state 50  in_progress  attempt 1 of 3  on ci-7',
        '  base-use1  [####################] 100%  state 100 done  completed  attempt 1 of 3',
        '  base-euc1  [############........]  60%  state 70 config  failed  attempt 1 of 3  — exit code 7',
        '  r3         [##########..........]  50%  state 60 copy  in_progress  attempt 1 of 3  on ci-7',
        '3 children: 1 completed, 1 in progress, 1 failed; lowest 50%, highest 100%',
        '',
      ].join('\n'),
    );
  });

  it('paints statuses on a colour terminal only', () => {
    expect(rollupLine({ color: true, width: 80 }, [done('a')])).toBe(
      '1 child: \x1b[32m1 completed\x1b[0m; lowest 100%, highest 100%',
    );
    expect(renderFamily(plain, parent, children)).not.toContain('\x1b[');
  });

  it('in a pipe, writes only the lines that changed since the last refresh', () => {
    const seen = new Map<string, string>();
    expect(changedLines(seen, familyLines(plain, parent, children)).split('\n')).toHaveLength(6);
    expect(changedLines(seen, familyLines(plain, parent, children))).toBe('');
    const later = [children[0]!, done('base-euc1'), children[2]!];
    expect(changedLines(seen, familyLines(plain, parent, later))).toBe(
      [
        '  base-euc1  [####################] 100%  state 100 done  completed  attempt 1 of 3',
        '3 children: 2 completed, 1 in progress; lowest 50%, highest 100%',
        '',
      ].join('\n'),
    );
  });

  it('stops when every child completed (0), was cancelled or is blocked (3); a failed child may still be retried', () => {
    expect(familyOutcome(children)).toEqual({ done: false, code: 3 });
    expect(familyOutcome([done('a'), done('b')])).toEqual({ done: true, code: 0 });
    expect(familyOutcome([done('a'), build('b', { status: 'blocked' })])).toEqual({ done: true, code: 3 });
    expect(familyOutcome([done('a'), build('b', { status: 'cancelled' })])).toEqual({ done: true, code: 3 });
    expect(familyOutcome([done('a'), build('b', { status: 'failed' })]).done).toBe(false);
  });
});

describe('fan-out helpers', () => {
  it('sends the targets as the fork takes them: no env, build numbers as strings', () => {
    expect(
      forkBodyOf({
        at_state: 50,
        targets: [
          {
            id: 'r1',
            platform_id: 'aws',
            metadata: { region: 'us-east-1' },
            env: { REGION: 'x' },
            build_number: 7,
          },
        ],
        steps: [{ state: 60, name: 'copy', run: 'true', retries: 0 }],
      }),
    ).toEqual({
      at_state: 50,
      children: [{ id: 'r1', platform_id: 'aws', metadata: { region: 'us-east-1' }, build_number: '7' }],
    });
    expect(targetLabel({ platform_id: 'aws', metadata: { region: 'us-east-1' } })).toBe('aws us-east-1');
    expect(targetLabel({ platform_id: 'gcp' })).toBe('gcp');
  });

  it('runs at most N tasks at once and keeps their order', async () => {
    let running = 0;
    let most = 0;
    const task = (n: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5 * (6 - n)));
      running--;
      return n;
    };
    expect(await inParallel([1, 2, 3, 4, 5].map(task), 2)).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('prefixes whole lines of output, however the chunks fall', () => {
    const out: string[] = [];
    const p = linePrefixer('[r1] ', (t) => out.push(t));
    p.write('one\ntw');
    p.write('o\n');
    p.write('three');
    p.end();
    expect(out.join('')).toBe('[r1] one\n[r1] two\n[r1] three\n');
  });
});

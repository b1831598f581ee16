import { applyArtifactUnverified } from '../../../../lib/builds/transitions';
import { buildAt, ctx, T1 } from '../../../helpers/builds';

describe('applyArtifactUnverified', () => {
  const input = {
    state_code: 10,
    name: 'img.raw',
    reason: 'the ETag changed',
    details: { check: 'download' },
  };

  it.each(['in_progress', 'failed', 'completed', 'cancelled'] as const)(
    'records it on a %s build and changes nothing else but the version',
    (status) => {
      const build = buildAt({ status, current_state: 20, state_status: 'failed', attempt: 1, version: 7 });
      const change = applyArtifactUnverified(build, input, ctx());
      expect(change.build).toEqual({ ...build, version: 8, updated_at: T1 });
      expect(change.history).toMatchObject({
        seq: 8,
        event: 'artifact_unverified',
        state_code: 20,
        from_state: 20,
        status: 'failed',
        build_status: status,
        from_build_status: status,
        reason: 'the ETag changed',
        metadata: { artifact: { state_code: 10, name: 'img.raw' }, check: 'download' },
      });
      expect(change.history.message).toMatch(/'img.raw' of state 10 is no longer verified/);
    },
  );
});

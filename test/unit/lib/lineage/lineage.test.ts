/** The pure parts of lineage: revocation and restore as build changes, the 409 they answer, keys and schemas. */
import { descendantIdOf, descendantKey, revocationKey } from '../../../../lib/lineage/lineage.keys';
import { channelNameSchema, imageInputSchema } from '../../../../lib/lineage/lineage.schema';
import {
  firstRevoked,
  restoredChange,
  revokedChange,
  revokedError,
} from '../../../../lib/lineage/revocation.rules';
import { buildAt } from '../../../helpers/builds';

const revocation = {
  revocation_id: 'r1',
  root_id: 'base',
  reason: 'CVE-2026-1234',
  revoked_at: '2026-12-01T00:00:00.000Z',
  revoked_by: 'key:admin',
};
const ctx = { now: '2026-12-01T00:00:01.000Z', actor: 'key:admin' };

describe('revokedChange', () => {
  it('makes a new version with a build_revoked entry and leaves position and status alone', () => {
    const build = buildAt({ id: 'app', version: 7, status: 'completed', current_state: 100 });
    const { build: next, history } = revokedChange(build, revocation, ctx);
    expect(next).toMatchObject({
      version: 8,
      status: 'completed',
      current_state: 100,
      revoked_at: revocation.revoked_at,
      revoked_reason: 'CVE-2026-1234',
      revoked_by: 'key:admin',
      revocation_id: 'r1',
      revoked_root_id: 'base',
    });
    expect(history).toMatchObject({
      seq: 8,
      event: 'build_revoked',
      reason: 'CVE-2026-1234',
      build_status: 'completed',
      from_build_status: 'completed',
      state_code: 100,
      from_state: 100,
      metadata: { revocation_id: 'r1', root_id: 'base' },
    });
  });

  it('is undone by restoredChange, in a further version', () => {
    const revoked = revokedChange(buildAt({ id: 'app', version: 3 }), revocation, ctx).build;
    const { build, history } = restoredChange(revoked, 'r1', 'false positive', ctx);
    expect(build).toMatchObject({ version: 5, revoked_at: null, revoked_reason: null, revocation_id: null });
    expect(history).toMatchObject({ seq: 5, event: 'build_restored', reason: 'false positive' });
  });
});

describe('revokedError', () => {
  it('names the build asked about, the revoked one and the reason', () => {
    const own = revokedError('app', 'app', { build_id: 'app', ...revocation });
    expect(own).toMatchObject({ code: 'revoked', status: 409 });
    expect(own.message).toBe("Build 'app' is revoked: CVE-2026-1234");
    const inherited = revokedError('app', 'base', { build_id: 'base', ...revocation });
    expect(inherited.message).toBe("Build 'app' descends from revoked build 'base': CVE-2026-1234");
    expect(inherited.details).toMatchObject({
      build_id: 'app',
      revoked_build_id: 'base',
      reason: 'CVE-2026-1234',
    });
  });

  it('finds the first revoked id in order, ignoring restored markers', () => {
    const markers = new Map([
      ['a', { build_id: 'a' }],
      ['b', { build_id: 'b', ...revocation }],
      ['c', { build_id: 'c', ...revocation }],
    ]);
    expect(firstRevoked(['a', 'c', 'b'], markers)).toBe('c');
    expect(firstRevoked(['a', 'x'], markers)).toBeUndefined();
  });
});

describe('keys and schemas', () => {
  it('keeps descendants in the ancestor partition and the marker beside the build', () => {
    expect(descendantKey('base', 'app')).toEqual({ pk: 'BUILD#base', sk: 'DESC#app' });
    expect(descendantIdOf('DESC#app')).toBe('app');
    expect(revocationKey('app')).toEqual({ pk: 'BUILD#app', sk: 'REVOCATION' });
  });

  it.each([
    ['rhel9-base-prod', true],
    ['a', true],
    ['prod.v2_x', true],
    ['Prod', false],
    ['-prod', false],
    ['has space', false],
    ['a'.repeat(101), false],
  ])('channel name %s is valid: %s', (name, valid) => {
    expect(channelNameSchema.safeParse(name).success).toBe(valid);
  });

  it('refuses images whose fields would break their key', () => {
    const ok = { cloud: 'aws', region: 'us-east-1', image_id: 'ami-0abc' };
    expect(imageInputSchema.safeParse(ok).success).toBe(true);
    expect(imageInputSchema.safeParse({ ...ok, region: 'us#east' }).success).toBe(false);
    expect(imageInputSchema.safeParse({ ...ok, image_id: 'ami#1' }).success).toBe(false);
    expect(imageInputSchema.safeParse({ ...ok, cloud: 'AWS' }).success).toBe(false);
    expect(
      imageInputSchema.safeParse({
        ...ok,
        cloud: 'azure',
        region: 'westeurope',
        image_id:
          '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/rhel9/versions/1.0.0',
      }).success,
    ).toBe(true);
  });
});

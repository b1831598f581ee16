/** Reference data and per-project state catalogs, end to end through the gateway and DynamoDB Local. */
import { ADMIN_ACTOR, startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

const report = (id: string, state_code: number, status: string, extra: Record<string, unknown> = {}) =>
  stack.call('POST', `/builds/${id}/states`, { state_code, status, ...extra });

describe('reference CRUD', () => {
  it('creates a platform under the id the user chose, with its location and every field', async () => {
    const res = await stack.call('POST', '/platforms', {
      id: 'aws-govcloud-west',
      name: 'AWS GovCloud (US-West)',
      cloud_provider: 'aws',
      region: 'us-gov-west-1',
      partition: 'aws-govcloud',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/platforms/aws-govcloud-west');
    expect(res.body).toMatchObject({
      id: 'aws-govcloud-west',
      kind: 'platform',
      cloud_provider: 'aws',
      region: 'us-gov-west-1',
      partition: 'aws-govcloud',
      active: true,
      deactivated_at: null,
      created_by: ADMIN_ACTOR,
    });
    const got = await stack.call('GET', '/platforms/aws-govcloud-west');
    expect(got.body).toEqual(res.body);
  });

  it('makes a slug id from the name (and version) when none is sent', async () => {
    const os = await stack.call('POST', '/os-versions', { name: 'RHEL', version: '9.3' });
    expect(os.status).toBe(201);
    expect(os.body.id).toBe('rhel-9.3');
    // The release is kept beside the item's revision counter, not overwritten by it.
    expect(os.body).toMatchObject({ version: '9.3', revision: 1 });
    const renamed = await stack.call(
      'PUT',
      '/os-versions/rhel-9.3',
      { version: '9.3.1' },
      { 'if-match': '"1"' },
    );
    expect(renamed.body).toMatchObject({ version: '9.3.1', revision: 2 });
    expect(renamed.headers.get('etag')).toBe('"2"');
    expect((await stack.call('GET', '/os-versions/rhel-9.3')).body.version).toBe('9.3.1');
    const project = await stack.call('POST', '/projects', { name: 'SAP Images' });
    expect(project.body.id).toBe('sap-images');
  });

  it('refuses a duplicate id with 409 already_exists and changes nothing', async () => {
    await stack.call('POST', '/image-types', { id: 'golden', name: 'Golden' });
    const again = await stack.call('POST', '/image-types', { id: 'golden', name: 'Other' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_exists');
    expect((await stack.call('GET', '/image-types/golden')).body.name).toBe('Golden');
  });

  it('rejects an unknown cloud provider and unknown fields with 400 naming them', async () => {
    const res = await stack.call('POST', '/platforms', {
      id: 'p1',
      name: 'P',
      cloud_provider: 'ibm',
      zone: 1,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message).toMatch(/cloud_provider/);
    expect(res.body.error.message).toMatch(/zone/);
    expect((await stack.call('GET', '/platforms/p1')).status).toBe(404);
  });

  it('updates only the fields sent, bumps the version and honours If-Match', async () => {
    await stack.call('POST', '/platforms', { id: 'azure-gov', name: 'Azure Gov', cloud_provider: 'azure' });
    const stale = await stack.call(
      'PUT',
      '/platforms/azure-gov',
      { region: 'usgovvirginia' },
      { 'if-match': '"7"' },
    );
    expect(stale.status).toBe(412);
    const res = await stack.call(
      'PUT',
      '/platforms/azure-gov',
      { region: 'usgovvirginia', partition: 'azure-government' },
      { 'if-match': '"1"' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(res.body).toMatchObject({
      name: 'Azure Gov',
      cloud_provider: 'azure',
      region: 'usgovvirginia',
      partition: 'azure-government',
      version: 2,
    });
  });

  it('soft-deletes: hidden from lists unless include_deactivated=true, still readable, restorable', async () => {
    await stack.call('POST', '/image-types', { id: 'legacy', name: 'Legacy' });
    const del = await stack.call('DELETE', '/image-types/legacy');
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ active: false, deactivated_by: ADMIN_ACTOR });
    expect(del.body.deactivated_at).toEqual(expect.any(String));

    const ids = async (query = '') =>
      ((await stack.call('GET', `/image-types${query}`)).body.items as { id: string }[]).map((i) => i.id);
    expect(await ids()).not.toContain('legacy');
    expect(await ids('?include_deactivated=true')).toContain('legacy');
    expect((await stack.call('GET', '/image-types/legacy')).body.active).toBe(false);

    expect((await stack.call('POST', '/image-types/legacy/restore')).body.active).toBe(true);
    expect(await ids()).toContain('legacy');
  });
});

describe('POST /builds and references', () => {
  it('names the field of a reference that does not exist, with 422 unknown_reference', async () => {
    const res = await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'no-such-type' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'unknown_reference',
      details: { field: 'image_type_id', id: 'no-such-type' },
    });
    const os = await stack.call('POST', '/builds', {
      platform_id: 'aws',
      image_type_id: 'rhel9',
      os_version_id: 'rhel-0',
    });
    expect(os.body.error.details.field).toBe('os_version_id');
    const project = await stack.call('POST', '/builds', {
      project_id: 'nope',
      platform_id: 'aws',
      image_type_id: 'rhel9',
    });
    expect(project.body.error.details.field).toBe('project_id');
  });

  it('puts a build with no project in the default project', async () => {
    const res = await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' });
    expect(res.status).toBe(201);
    expect(res.body.project_id).toBe('default');
  });

  it('rejects a deactivated reference on new builds but still shows old builds that name it', async () => {
    await stack.call('POST', '/platforms', { id: 'vsphere-lab', name: 'Lab', cloud_provider: 'vsphere' });
    const old = await stack.call('POST', '/builds', { platform_id: 'vsphere-lab', image_type_id: 'rhel9' });
    expect(old.status).toBe(201);
    expect((await stack.call('DELETE', '/platforms/vsphere-lab')).status).toBe(200);

    const refused = await stack.call('POST', '/builds', {
      platform_id: 'vsphere-lab',
      image_type_id: 'rhel9',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details).toMatchObject({ field: 'platform_id', id: 'vsphere-lab' });
    expect(refused.body.error.message).toMatch(/deactivated|not active|does not exist/);

    const still = await stack.call('GET', `/builds/${old.body.id}`);
    expect(still.status).toBe(200);
    expect(still.body.platform_id).toBe('vsphere-lab');
    const listed = await stack.call('GET', '/builds?platform_id=vsphere-lab');
    expect((listed.body.items as { id: string }[]).map((b) => b.id)).toContain(old.body.id);
    expect((await report(old.body.id, 0, 'completed')).status).toBe(201);
  });
});

describe('per-project state catalogs', () => {
  beforeAll(async () => {
    await stack.call('POST', '/projects', { id: 'catalogs', name: 'Catalogs' });
  });

  it("starts a new project from the seeds' 21 milestones", async () => {
    const res = await stack.call('GET', '/projects/catalogs/state-codes');
    expect(res.status).toBe(200);
    const codes = (res.body.state_codes as { code: number }[]).map((m) => m.code);
    expect(codes).toHaveLength(21);
    expect(codes[0]).toBe(0);
    expect(codes[20]).toBe(100);
    expect(res.body.state_codes[1]).toMatchObject({
      code: 5,
      expected_duration_s: null,
      max_attempts: null,
    });
  });

  it('inserts 42 between 40 and 45 without renumbering; state names and resume follow the catalog', async () => {
    const current = await stack.call('GET', '/projects/catalogs/state-codes');
    const codes = [...current.body.state_codes, { code: 42, name: 'CIS hardening', max_attempts: 5 }];
    const put = await stack.call('PUT', '/projects/catalogs/state-codes', codes, {
      'if-match': `"${current.body.version}"`,
    });
    expect(put.status).toBe(200);
    const list = put.body.state_codes as { code: number }[];
    const i = list.findIndex((m) => m.code === 42);
    expect(list[i - 1]!.code).toBe(40);
    expect(list[i + 1]!.code).toBe(45);

    const build = (
      await stack.call('POST', '/builds', {
        project_id: 'catalogs',
        platform_id: 'aws',
        image_type_id: 'rhel9',
      })
    ).body;
    for (let code = 0; code <= 40; code += 5)
      expect((await report(build.id, code, 'completed')).status).toBe(201);
    const resume = await stack.call('GET', `/builds/${build.id}/resume`);
    expect(resume.body).toMatchObject({ state_code: 42, state_name: 'CIS hardening' });

    expect((await report(build.id, 42, 'in_progress')).body).toMatchObject({
      current_state: 42,
      state_name: 'CIS hardening',
      max_attempts: 5,
    });
    // The per-state max_attempts (5) overrides the default (3): three failures leave two attempts.
    for (let n = 0; n < 3; n++) {
      expect((await report(build.id, 42, 'failed', { error: 'cis-cat scan failed' })).status).toBe(201);
      if (n < 2) expect((await report(build.id, 42, 'in_progress')).body.attempt).toBe(n + 2);
    }
    const after = await stack.call('GET', `/builds/${build.id}`);
    expect(after.body.status).toBe('failed');
    expect(after.body.state_name).toBe('CIS hardening');

    // The default project still knows nothing of 42.
    const other = (await stack.call('POST', '/builds', { platform_id: 'aws', image_type_id: 'rhel9' })).body;
    for (let code = 0; code <= 40; code += 5) await report(other.id, code, 'completed');
    expect((await stack.call('GET', `/builds/${other.id}/resume`)).body.state_code).toBe(45);
  });

  it('refuses a catalog without 0 and 100 or with a duplicate code, and a stale If-Match', async () => {
    const missing = await stack.call('PUT', '/projects/catalogs/state-codes', [{ code: 0, name: 'Start' }]);
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/100/);
    const dup = await stack.call('PUT', '/projects/catalogs/state-codes', [
      { code: 0, name: 'a' },
      { code: 0, name: 'b' },
      { code: 100, name: 'c' },
    ]);
    expect(dup.status).toBe(400);
    expect(dup.body.error.message).toMatch(/twice/);
    const stale = await stack.call(
      'PUT',
      '/projects/catalogs/state-codes',
      [
        { code: 0, name: 'a' },
        { code: 100, name: 'c' },
      ],
      { 'if-match': '"1"' },
    );
    expect(stale.status).toBe(412);
    expect((await stack.call('GET', '/projects/catalogs/state-codes')).body.state_codes).toHaveLength(22);
  });

  it('answers 404 for the catalog of a project that does not exist', async () => {
    const res = await stack.call('GET', '/projects/ghost/state-codes');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

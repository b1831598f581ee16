import {
  createBuildSchema,
  listBuildsQuerySchema,
  stateReportSchema,
} from '../../../../lib/builds/build.schema';

const valid = { platform_id: 'aws-commercial', image_type_id: 'rhel-9.3' };

describe('createBuildSchema', () => {
  it('defaults the project and metadata', () => {
    expect(createBuildSchema.parse(valid)).toEqual({ ...valid, project_id: 'default', metadata: {} });
  });

  it('stores integer build numbers as strings', () => {
    expect(createBuildSchema.parse({ ...valid, build_number: 42 }).build_number).toBe('42');
  });

  it.each([
    ['a missing platform', { image_type_id: 'x' }],
    ['a missing image type', { platform_id: 'x' }],
    ['an unknown field', { ...valid, colour: 'red' }],
    ['an id with a slash', { ...valid, id: 'a/b' }],
    ['an id starting with a dot', { ...valid, id: '.hidden' }],
    ['an id of 129 characters', { ...valid, id: 'a'.repeat(129) }],
    ['metadata that is an array', { ...valid, metadata: [1] }],
    ['metadata over 16 KB', { ...valid, metadata: { blob: 'x'.repeat(16 * 1024) } }],
    ['a negative build number', { ...valid, build_number: -1 }],
  ])('rejects %s', (_name, input) => {
    expect(createBuildSchema.safeParse(input).success).toBe(false);
  });

  it('accepts a client-chosen id of 128 characters', () => {
    expect(createBuildSchema.safeParse({ ...valid, id: `a${'b'.repeat(127)}` }).success).toBe(true);
  });
});

describe('stateReportSchema', () => {
  it.each([0, 5, 42, 100])('accepts state code %i', (state_code) => {
    expect(stateReportSchema.safeParse({ state_code, status: 'in_progress' }).success).toBe(true);
  });

  it.each([
    ['a code above 100', { state_code: 101, status: 'completed' }],
    ['a negative code', { state_code: -5, status: 'completed' }],
    ['a fractional code', { state_code: 5.5, status: 'completed' }],
    ['a code given as a string', { state_code: '5', status: 'completed' }],
    ['an unknown status', { state_code: 5, status: 'done' }],
    ['the pending status (builds start pending; reports do not)', { state_code: 5, status: 'pending' }],
    ['an unknown field', { state_code: 5, status: 'completed', artifact: 'x' }],
  ])('rejects %s', (_name, input) => {
    expect(stateReportSchema.safeParse(input).success).toBe(false);
  });
});

describe('listBuildsQuerySchema', () => {
  it('coerces limit from the query string and bounds it', () => {
    expect(listBuildsQuerySchema.parse({ limit: '10' }).limit).toBe(10);
    expect(listBuildsQuerySchema.safeParse({ limit: '0' }).success).toBe(false);
    expect(listBuildsQuerySchema.safeParse({ limit: '101' }).success).toBe(false);
    expect(listBuildsQuerySchema.safeParse({ status: 'done' }).success).toBe(false);
  });
});

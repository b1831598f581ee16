import { randomBytes } from 'node:crypto';
import { apiKeyIdFor, hashApiKey } from '../../lib/auth/api-key';
import { SYSTEM_PRINCIPAL } from '../../lib/auth/principal';
import type { ReferenceType } from '../../lib/reference/reference.model';
import { services } from '../../lib/runtime';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack';
import { responseChecker } from './openapi';

export const ADMIN_KEY = 'bst_test_admin_key_for_integration_tests';
/** The actor recorded for changes made with ADMIN_KEY. */
export const ADMIN_ACTOR = `key:${apiKeyIdFor(hashApiKey(ADMIN_KEY))}`;

export interface TestStack extends LocalStack {
  /**
   * fetch against the gateway with the admin key (unless headers override it) and JSON bodies.
   * Every answer is checked against the OpenAPI document: an undeclared status or a body that
   * does not match its schema (an undocumented field included) throws.
   */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  body: any;
}

/**
 * Reference data the tests' builds name, so a test about something else can create a build in one
 * call. Tests about reference data itself use ids not listed here.
 */
type Seed = readonly [ReferenceType, Record<string, unknown> & { id: string; name: string }];
const PROVIDER: Record<string, string> = { aws: 'aws', azure: 'azure', gcp: 'gcp' };
export const TEST_REFERENCES: readonly Seed[] = [
  ['project', { id: 'paging', name: 'Paging' }],
  ...['aws', 'azure', 'gcp', 'x', 'bench'].map(
    (id): Seed => ['platform', { id, name: id, cloud_provider: PROVIDER[id] ?? 'other' }],
  ),
  ['platform', { id: 'aws-commercial', name: 'AWS commercial', cloud_provider: 'aws', region: 'us-east-1' }],
  ...[
    'rhel9',
    'x',
    'bench',
    'cli',
    'rhel-9.3',
    'rhel8-webserver',
    'win2022',
    'rhel9-base',
    'rhel8',
    'sap',
  ].map((id): Seed => ['image_type', { id, name: id }]),
  ['os_version', { id: 'rhel-8.7', name: 'RHEL', version: '8.7' }],
];

export async function seedTestReferences(): Promise<void> {
  for (const [type, input] of TEST_REFERENCES) {
    await services().references.create(type, input, SYSTEM_PRINCIPAL);
  }
}

/** The real gateway and handlers on a fresh table of the run's shared DynamoDB Local. */
export async function startTestStack(
  options: Pick<LocalStackOptions, 'events' | 'completeUploads'> & {
    /** An engine of its own (stopped with the stack), for tests whose data would slow the shared one. */
    ownEngine?: boolean;
  } = {},
): Promise<TestStack> {
  const { ownEngine, ...stackOptions } = options;
  const endpoint = process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('integration tests need the int project globalSetup (DynamoDB Local)');
  const stack = await startLocalStack({
    dynamodbEndpoint: ownEngine ? undefined : endpoint,
    tableName: `t-${randomBytes(6).toString('hex')}`,
    bootstrapAdminKey: ADMIN_KEY,
    ...stackOptions,
  });
  await seedTestReferences();
  const call: TestStack['call'] = async (method, path, body, headers = {}) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        'x-api-key': ADMIN_KEY,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const isJson = res.headers.get('content-type')?.startsWith('application/json');
    const parsed = text && isJson ? JSON.parse(text) : text || undefined;
    responseChecker().check(method, path, res.status, res.headers.get('content-type'), parsed);
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return { ...stack, call };
}

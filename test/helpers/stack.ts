import { randomBytes } from 'node:crypto';
import { type LocalStack, startLocalStack } from '../../local/stack';

export const ADMIN_KEY = 'bst_test_admin_key_for_integration_tests';

export interface TestStack extends LocalStack {
  /** fetch against the gateway with the admin key (unless headers override it) and JSON bodies. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  body: any;
}

/** The real gateway and handlers on a fresh table of the run's shared DynamoDB Local. */
export async function startTestStack(): Promise<TestStack> {
  const endpoint = process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('integration tests need the int project globalSetup (DynamoDB Local)');
  const stack = await startLocalStack({
    dynamodbEndpoint: endpoint,
    tableName: `t-${randomBytes(6).toString('hex')}`,
    bootstrapAdminKey: ADMIN_KEY,
  });
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
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return { ...stack, call };
}

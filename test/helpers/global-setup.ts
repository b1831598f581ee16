import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { buildCli, buildConcourse } from './cli';

/** One in-memory DynamoDB Local for the whole run; each test file creates its own table in it. */
export default async function globalSetup(): Promise<void> {
  // The jest process itself runs this (not test/helpers/env.ts): keep its output as quiet.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // Built once here, before any worker starts: files that ran the build each would replace dist/
  // under the bldst processes of a file running beside them.
  buildCli();
  buildConcourse();
  process.env.BUILDSTATE_TEST_CLI_BUILT = '1';
  const engine = await startDynamoDbLocal();
  process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT = engine.endpoint;
  (globalThis as { __dynamodb?: typeof engine }).__dynamodb = engine;
}

import { startDynamoDbLocal } from '../../local/dynamodb-local';

/** One in-memory DynamoDB Local for the whole run; each test file creates its own table in it. */
export default async function globalSetup(): Promise<void> {
  const engine = await startDynamoDbLocal();
  process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT = engine.endpoint;
  (globalThis as { __dynamodb?: typeof engine }).__dynamodb = engine;
}

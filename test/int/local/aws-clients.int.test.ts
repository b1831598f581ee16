/**
 * What lib/aws/clients.ts adds to the SDK's clients, proven through the DynamoDB document client
 * against DynamoDB Local behind a proxy the test controls: an answer lost after DynamoDB applied a
 * write (the connection cut on its way back) makes the SDK retry, and the retry's refusal by the
 * write's own first attempt is not the last word: the call fails as unanswered (an outage whose
 * outcome is unknown: 503 `may_have_applied`), with the refusal as its cause. A read keeps its
 * retry's error. Every request names BuildState in its user agent.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { USER_AGENT_APP_ID } from '../../../lib/aws/clients';
import { createDocumentClient } from '../../../lib/db/client';
import { GetCommand, PutCommand } from '../../../lib/db/commands';
import { isConditionFailure, isOutage, isOutcomeUnknown } from '../../../lib/db/errors';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
let proxy: Server;
/** How many of the next requests lose their answer: forwarded, answered, then the connection cut. */
let loseAnswers = 0;
const seen: { target: string; userAgent: string; lost: boolean }[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  const upstream = new URL(process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT!);
  proxy = createServer((req, res) => {
    const lost = loseAnswers > 0;
    if (lost) loseAnswers--;
    seen.push({
      target: String(req.headers['x-amz-target']),
      userAgent: String(req.headers['user-agent']),
      lost,
    });
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        if (lost) {
          answer.resume();
          answer.once('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await stack.stop();
});

const client = () =>
  createDocumentClient({
    region: 'us-east-1',
    dynamodbEndpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
  });

it('fails a write whose applied attempt lost its answer as unanswered, not as its retry’s refusal', async () => {
  const db = client();
  const Key = { pk: 'TEST#unanswered', sk: 'ONE' };
  seen.length = 0;
  loseAnswers = 1;
  const error = await db
    .send(
      new PutCommand({
        TableName: stack.tableName,
        Item: { ...Key, value: 1 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )
    .catch((e: Error) => e);
  // The first attempt was applied (the item is there); its retry was refused by it.
  expect(seen.map((s) => [s.target, s.lost])).toEqual([
    ['DynamoDB_20120810.PutItem', true],
    ['DynamoDB_20120810.PutItem', false],
  ]);
  expect((await db.send(new GetCommand({ TableName: stack.tableName, Key }))).Item).toEqual({
    ...Key,
    value: 1,
  });
  expect(error).toBeInstanceOf(Error);
  expect(isConditionFailure(error)).toBe(false);
  expect(isOutage(error)).toBe(true);
  expect(isOutcomeUnknown(error)).toBe(true);
  expect(isConditionFailure((error as Error).cause)).toBe(true);
  for (const s of seen) expect(s.userAgent).toContain(`app/${USER_AGENT_APP_ID.replace('/', '-')}`);
});

it('a write refused at its first answered attempt is a refusal', async () => {
  const db = client();
  const Item = { pk: 'TEST#refused', sk: 'ONE' };
  await db.send(new PutCommand({ TableName: stack.tableName, Item }));
  const error = await db
    .send(
      new PutCommand({ TableName: stack.tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' }),
    )
    .catch((e: Error) => e);
  expect(isConditionFailure(error)).toBe(true);
  expect(isOutage(error)).toBe(false);
});

it('a read whose first answer was lost is retried and answers', async () => {
  const db = client();
  const Key = { pk: 'TEST#refused', sk: 'ONE' };
  seen.length = 0;
  loseAnswers = 1;
  expect((await db.send(new GetCommand({ TableName: stack.tableName, Key }))).Item).toEqual(Key);
  expect(seen.map((s) => s.lost)).toEqual([true, false]);
});

it('an answer lost on every attempt is an outage whose outcome is unknown', async () => {
  const db = client();
  seen.length = 0;
  loseAnswers = 2;
  const error = await db
    .send(new GetCommand({ TableName: stack.tableName, Key: { pk: 'TEST#none', sk: 'ONE' } }))
    .catch((e: Error) => e);
  expect(seen).toHaveLength(2);
  expect(isOutage(error)).toBe(true);
  expect(isOutcomeUnknown(error)).toBe(true);
});

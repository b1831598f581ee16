/**
 * The signed JSON caller (lib/aws/json-rpc.ts) and the document client on it (lib/db/commands.ts),
 * which the Lambda functions use instead of the SDK clients: a request it signs is the one the SDK
 * client sends for the same call (DynamoDB, Secrets Manager, EventBridge); against DynamoDB Local
 * its errors read as the SDK's do (lib/db/errors.ts); against a server we control it retries
 * throttling, 5xx and socket failures, never another 4xx, and a stalled answer ends in a
 * TimeoutError within the store's budget.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand as SdkPutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as sdk from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { jwtSecretSource } from '../../lib/auth/jwt-secret';
import { EVENTBRIDGE, JsonRpcClient } from '../../lib/aws/json-rpc';
import { createDocumentClient, STORE_TIMEOUTS } from '../../lib/db/client';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '../../lib/db/commands';
import { cancellation, isConditionFailure, isOutage, isOutcomeUnknown } from '../../lib/db/errors';
import { putEvents } from '../../lib/events/eventbridge';
import type { BusEvent } from '../../lib/events/events';
import { services } from '../../lib/runtime';
import { startTestStack, type TestStack } from '../helpers/stack';

/** A call that was to fail and did not. */
const refused = (): never => {
  throw new Error('expected the call to fail');
};

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A 127.0.0.1 server that records every request and answers as `answer` says. */
async function server(answer: (seen: Seen, n: number, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      answer(s, seen.length, res);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    endpoint: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  // The test's clock, faked or not: the SDK corrects its signing time by a server's Date that differs.
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    date: new Date().toUTCString(),
    ...headers,
  });
  res.end(JSON.stringify(body));
};

/** What a signature covers, and the signature itself. */
const signed = (s: Seen) => ({
  method: s.method,
  path: s.url,
  target: s.headers['x-amz-target'],
  contentType: s.headers['content-type'],
  date: s.headers['x-amz-date'],
  token: s.headers['x-amz-security-token'],
  body: s.body,
  authorization: s.headers.authorization,
});

/**
 * The SDK client's request without the headers only the SDK adds (a random invocation id, the
 * attempt counter, its user agent), removed before it signs: everything else is signed as sent.
 */
function withoutSdkHeaders<C extends { middlewareStack: object }>(client: C): C {
  const stack = client.middlewareStack as { addRelativeTo(middleware: unknown, options: object): void };
  stack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const headers = (args as { request: { headers: Record<string, string> } }).request.headers;
      for (const name of ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent'])
        delete headers[name];
      return next(args);
    },
    { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'dropSdkHeaders' },
  );
  return client;
}

describe('a request it signs is the SDK client’s', () => {
  const env = { ...process.env };
  const now = new Date('2026-12-01T12:34:56Z');
  beforeAll(() => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDJSONRPCTEST',
      AWS_SECRET_ACCESS_KEY: 'secret/for+the=test',
      AWS_SESSION_TOKEN: 'session-token',
    });
    // A fixed signing time for both: only Date is faked (the servers and sockets run on real timers).
    jest.useFakeTimers({
      now,
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
  });
  afterAll(() => {
    jest.useRealTimers();
    process.env = env;
  });

  it('for DynamoDB (the document client’s commands)', async () => {
    const srv = await server((_s, _n, res) => json(res, 200, {}));
    try {
      // DynamoDB Local's fixed credentials (no session token) in both, as createDocumentClient pins them.
      const credentials = { accessKeyId: 'buildstate', secretAccessKey: 'local' };
      const theirs = sdk.DynamoDBDocumentClient.from(
        withoutSdkHeaders(new DynamoDBClient({ region: 'eu-west-1', endpoint: srv.endpoint, credentials })),
        { marshallOptions: { removeUndefinedValues: true } },
      );
      const ours = createDocumentClient({ region: 'eu-west-1', dynamodbEndpoint: srv.endpoint });
      // Members in the service model's order (the SDK serializes in that order; the service does not care).
      const item = {
        pk: 'BUILD#b-1',
        sk: 'META',
        n: 42.5,
        tags: new Set(['a', 'b']),
        nested: { list: [1, 'two', null, true], gone: undefined },
        blob: new Uint8Array([0, 1, 254, 255]),
      };
      const calls: [string, () => [Promise<unknown>, Promise<unknown>]][] = [
        [
          'PutItem',
          () => {
            const input = {
              TableName: 't',
              Item: item,
              ConditionExpression: 'attribute_not_exists(pk)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
            };
            return [theirs.send(new sdk.PutCommand(input)), ours.send(new PutCommand(input))];
          },
        ],
        [
          'Query',
          () => {
            const input = {
              TableName: 't',
              IndexName: 'by-kind',
              Limit: 5,
              ExclusiveStartKey: { pk: 'a', sk: 'b' },
              KeyConditionExpression: '#k = :k',
              ExpressionAttributeNames: { '#k': 'kind' },
              ExpressionAttributeValues: { ':k': 'build' },
            };
            return [theirs.send(new sdk.QueryCommand(input)), ours.send(new QueryCommand(input))];
          },
        ],
        [
          'TransactWriteItems',
          () => {
            const input = {
              TransactItems: [
                { Put: { Item: item, TableName: 't' } },
                {
                  Update: {
                    Key: { pk: 'LIVE#b-1', sk: 'LIVE' },
                    UpdateExpression: 'SET #s = :s',
                    TableName: 't',
                    ExpressionAttributeNames: { '#s': 'status' },
                    ExpressionAttributeValues: { ':s': 'failed' },
                  },
                },
              ],
              // Each client makes up one when none is given (below): the same one here, to compare.
              ClientRequestToken: 'd7b1010f-6734-4487-ae06-be7544c22cfc',
            };
            return [
              theirs.send(new sdk.TransactWriteCommand(input)),
              ours.send(new TransactWriteCommand(input)),
            ];
          },
        ],
      ];
      for (const [operation, call] of calls) {
        const before = srv.seen.length;
        await Promise.all(call().map((p) => p));
        const [sdkRequest, ourRequest] = srv.seen.slice(before).sort((a, b) => {
          // The SDK's request is the one sent first only by chance: tell them apart by user agent.
          const sdkFirst = (s: Seen) => (s.headers['user-agent']?.startsWith('aws-sdk-js') ? 0 : 1);
          return sdkFirst(a) - sdkFirst(b);
        });
        expect({ operation, ...signed(ourRequest!) }).toEqual({ operation, ...signed(sdkRequest!) });
        expect(signed(ourRequest!).target).toBe(`DynamoDB_20120810.${operation}`);
        expect(ourRequest!.headers['content-type']).toBe('application/x-amz-json-1.0');
      }
    } finally {
      await srv.close();
    }
  });

  it('for Secrets Manager (the JWT secret)', async () => {
    const srv = await server((_s, _n, res) => json(res, 200, { Name: 'jwt', SecretString: 'sekret' }));
    try {
      const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:buildstate/jwt-AbCdEf';
      const theirs = withoutSdkHeaders(
        new SecretsManagerClient({ region: 'eu-west-1', endpoint: srv.endpoint }),
      );
      expect((await theirs.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe('sekret');
      const key = await jwtSecretSource({ arn, region: 'eu-west-1', endpoint: srv.endpoint })();
      expect(new TextDecoder().decode(key)).toBe('sekret');
      const [sdkRequest, ourRequest] = srv.seen;
      expect(signed(ourRequest!)).toEqual(signed(sdkRequest!));
      expect(ourRequest!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
      expect(ourRequest!.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(ourRequest!.headers.authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
    } finally {
      await srv.close();
    }
  });

  it('for EventBridge (the event publisher)', async () => {
    const srv = await server((_s, _n, res) =>
      json(res, 200, { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }),
    );
    try {
      const event: BusEvent = {
        source: 'buildstate',
        detailType: 'Build State Changed',
        detail: { dedup_key: 'b-1:2', build_id: 'b-1', state_code: 10 },
        time: '2026-12-01T12:00:00.123Z',
      };
      const theirs = withoutSdkHeaders(
        new EventBridgeClient({ region: 'cn-north-1', endpoint: srv.endpoint }),
      );
      await theirs.send(
        new SdkPutEventsCommand({
          Entries: [
            {
              EventBusName: 'bus',
              Source: event.source,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
              Time: new Date(event.time),
            },
          ],
        }),
      );
      const ours = new JsonRpcClient({ ...EVENTBRIDGE, region: 'cn-north-1', endpoint: srv.endpoint });
      expect(await putEvents(ours, 'bus', [event])).toEqual([]);
      const [sdkRequest, ourRequest] = srv.seen;
      expect(signed(ourRequest!)).toEqual(signed(sdkRequest!));
      expect(ourRequest!.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
      expect(ourRequest!.headers['content-type']).toBe('application/x-amz-json-1.1');
    } finally {
      await srv.close();
    }
  });
});

describe('against DynamoDB Local, errors read as the SDK’s', () => {
  let stack: TestStack;
  let db: ReturnType<typeof createDocumentClient>;
  beforeAll(async () => {
    stack = await startTestStack();
    db = createDocumentClient({
      region: services().config.region,
      dynamodbEndpoint: process.env.BUILDSTATE_TEST_DYNAMODB_ENDPOINT,
    });
  });
  afterAll(() => stack.stop());

  const item = (id: string) => ({
    pk: `JSONRPC#${id}`,
    sk: 'META',
    n: 7,
    big: 1234567890123,
    tags: new Set(['x', 'y']),
    nested: { list: [1, 'two', null, false], map: { deep: 'yes' } },
    blob: new Uint8Array([0, 1, 2, 250]),
  });

  it('round-trips every attribute type, and pages a query', async () => {
    const a = item('roundtrip');
    await db.send(new PutCommand({ TableName: stack.tableName, Item: { ...a, dropped: undefined } }));
    const got = await db.send(new GetCommand({ TableName: stack.tableName, Key: { pk: a.pk, sk: 'META' } }));
    expect(got.Item).toEqual(a);
    // A plain Uint8Array, as the SDK's clients give blobs back (a Buffer serialises differently).
    expect(Object.getPrototypeOf(got.Item!.blob)).toBe(Uint8Array.prototype);
    expect(got.$metadata.httpStatusCode).toBe(200);
    for (const sk of ['S#1', 'S#2', 'S#3'])
      await db.send(new PutCommand({ TableName: stack.tableName, Item: { pk: a.pk, sk } }));
    const query = { TableName: stack.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)' };
    const first = await db.send(
      new QueryCommand({ ...query, ExpressionAttributeValues: { ':pk': a.pk, ':s': 'S#' }, Limit: 2 }),
    );
    expect(first.Items).toEqual([
      { pk: a.pk, sk: 'S#1' },
      { pk: a.pk, sk: 'S#2' },
    ]);
    expect(first.LastEvaluatedKey).toEqual({ pk: a.pk, sk: 'S#2' });
    const rest = await db.send(
      new QueryCommand({
        ...query,
        ExpressionAttributeValues: { ':pk': a.pk, ':s': 'S#' },
        ExclusiveStartKey: first.LastEvaluatedKey,
      }),
    );
    expect(rest.Items).toEqual([{ pk: a.pk, sk: 'S#3' }]);
    const batch = await db.send(
      new BatchGetCommand({
        RequestItems: {
          [stack.tableName]: {
            Keys: [
              { pk: a.pk, sk: 'S#1' },
              { pk: a.pk, sk: 'NONE' },
            ],
          },
        },
      }),
    );
    expect(batch.Responses?.[stack.tableName]).toEqual([{ pk: a.pk, sk: 'S#1' }]);
    const updated = await db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: a.pk, sk: 'S#1' },
        UpdateExpression: 'SET #n = :n',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':n': 3 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(updated.Attributes).toEqual({ pk: a.pk, sk: 'S#1', n: 3 });
    const deleted = await db.send(
      new DeleteCommand({
        TableName: stack.tableName,
        Key: { pk: a.pk, sk: 'S#1' },
        ReturnValues: 'ALL_OLD',
      }),
    );
    expect(deleted.Attributes).toEqual({ pk: a.pk, sk: 'S#1', n: 3 });
  });

  it('sends any view of bytes, and an ArrayBuffer, as the bytes they hold', async () => {
    const key = { pk: 'JSONRPC#bytes', sk: 'META' };
    const i16 = new Int16Array([1, -2]);
    const window = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    await db.send(
      new PutCommand({
        TableName: stack.tableName,
        Item: {
          ...key,
          i16,
          window,
          ab: new Uint8Array([5, 4]).buffer,
          dv: new DataView(new Uint8Array([3]).buffer),
        },
      }),
    );
    const got = (await db.send(new GetCommand({ TableName: stack.tableName, Key: key }))).Item!;
    expect(got.i16).toEqual(new Uint8Array(i16.buffer));
    expect(got.window).toEqual(new Uint8Array([8, 7]));
    expect(got.ab).toEqual(new Uint8Array([5, 4]));
    expect(got.dv).toEqual(new Uint8Array([3]));
  });

  it('a failed condition is ConditionalCheckFailedException, with the old item when asked for', async () => {
    const a = item('condition');
    await db.send(new PutCommand({ TableName: stack.tableName, Item: a }));
    const error = await db
      .send(
        new PutCommand({
          TableName: stack.tableName,
          Item: { pk: a.pk, sk: 'META', n: 8 },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      )
      .then(refused, (e: unknown) => e as Error & Record<string, unknown>);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(isConditionFailure(error)).toBe(true);
    expect(isOutage(error)).toBe(false);
    // As lib-dynamodb, the item in an error is DynamoDB's form.
    expect(error.Item).toEqual(marshall(a));
    expect(unmarshall(error.Item as never)).toEqual({ ...a, blob: Buffer.from(a.blob) });
  });

  it('a cancelled transaction names its failed parts by position, with their old items', async () => {
    const a = item('tx-a');
    const b = item('tx-b');
    await db.send(new PutCommand({ TableName: stack.tableName, Item: b }));
    const error = await db
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: stack.tableName, Item: a, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: stack.tableName,
                Key: { pk: b.pk, sk: 'META' },
                UpdateExpression: 'SET n = :n',
                ConditionExpression: 'n = :was',
                ExpressionAttributeValues: { ':n': 9, ':was': 1 },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              ConditionCheck: {
                TableName: stack.tableName,
                Key: { pk: 'JSONRPC#none', sk: 'META' },
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
          ],
        }),
      )
      .then(refused, (e: unknown) => e as Error & Record<string, unknown>);
    expect(error).toMatchObject({ name: 'TransactionCanceledException', $metadata: { httpStatusCode: 400 } });
    expect((error.CancellationReasons as { Code: string }[]).map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
      'ConditionalCheckFailed',
    ]);
    const summary = cancellation(error)!;
    expect(summary.failedConditions).toEqual([1, 2]);
    expect(summary.conflict).toBe(false);
    expect(summary.oldItem(1)).toEqual({ ...b, blob: Buffer.from(b.blob) });
    expect(summary.oldItem(2)).toBeUndefined();
    // Nothing was written.
    expect(
      (await db.send(new GetCommand({ TableName: stack.tableName, Key: { pk: a.pk, sk: 'META' } }))).Item,
    ).toBeUndefined();
  });

  it('a missing table is ResourceNotFoundException, an outage; a bad request is final at once', async () => {
    const missing = await db
      .send(new GetCommand({ TableName: 'no-such-table', Key: { pk: 'a', sk: 'b' } }))
      .then(refused, (e: unknown) => e as Error);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    expect(isOutage(missing)).toBe(true);
    const invalid = await db.send(new GetCommand({ TableName: stack.tableName, Key: { pk: 'a' } })).then(
      () => Promise.reject(new Error('expected a refusal')),
      (e: unknown) => e as Error,
    );
    expect(invalid).toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(invalid.message).toMatch(/key/i);
    expect(isOutage(invalid)).toBe(false);
  });
});

describe('retries and timeouts', () => {
  const rpc = (endpoint: string) =>
    new JsonRpcClient({
      service: 'dynamodb',
      targetPrefix: 'DynamoDB_20120810',
      jsonVersion: '1.0',
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
  const answers = async (...script: ((res: ServerResponse) => void)[]) =>
    server((_s, n, res) => (script[n - 1] ?? script.at(-1)!)(res));
  /** Every attempt's connection and request timeouts, and a second for the backoff and the rest. */
  const budget =
    STORE_TIMEOUTS.attempts * (STORE_TIMEOUTS.connectionTimeoutMs + STORE_TIMEOUTS.requestTimeoutMs) + 1_000;

  it('retries a 500, then answers', async () => {
    const srv = await answers(
      (res) =>
        json(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'oops' }),
      (res) => json(res, 200, { Item: { pk: { S: 'a' } } }),
    );
    try {
      const out = await rpc(srv.endpoint).call<{ Item: unknown }>('GetItem', { TableName: 't' });
      expect(out).toMatchObject({
        Item: { pk: { S: 'a' } },
        $metadata: { httpStatusCode: 200, attempts: 2 },
      });
      expect(srv.seen).toHaveLength(2);
      expect(srv.seen.map((s) => s.headers.authorization?.startsWith('AWS4-HMAC-SHA256 '))).toEqual([
        true,
        true,
      ]);
    } finally {
      await srv.close();
    }
  });

  it('sends a transaction’s retry with the same ClientRequestToken, as the SDK does', async () => {
    const srv = await answers(
      (res) => json(res, 503, { __type: 'ServiceUnavailable' }),
      (res) => json(res, 200, {}),
    );
    try {
      const db = createDocumentClient({ region: 'us-east-1', dynamodbEndpoint: srv.endpoint });
      const put = { Put: { TableName: 't', Item: { pk: 'a', sk: 'b' } } };
      await db.send(new TransactWriteCommand({ TransactItems: [put] }));
      await db.send(new TransactWriteCommand({ TransactItems: [put] }));
      const tokens = srv.seen.map((s) => JSON.parse(s.body).ClientRequestToken as string);
      expect(tokens).toHaveLength(3);
      expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
      // The retry carries the first attempt's token; the next transaction has its own.
      expect(tokens[1]).toBe(tokens[0]);
      expect(tokens[2]).not.toBe(tokens[0]);
    } finally {
      await srv.close();
    }
  });

  it('retries a throttling 400 (the code in x-amzn-ErrorType)', async () => {
    const srv = await answers(
      (res) =>
        json(
          res,
          400,
          { Message: 'Rate exceeded' },
          { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/' },
        ),
      (res) => json(res, 200, {}),
    );
    try {
      expect((await rpc(srv.endpoint).call('GetItem', {})).$metadata.attempts).toBe(2);
      expect(srv.seen).toHaveLength(2);
    } finally {
      await srv.close();
    }
  });

  it('gives up on throttling after the store’s attempts, with the error as the service sent it', async () => {
    const srv = await answers((res) =>
      json(res, 400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'slow down',
      }),
    );
    try {
      const error = await rpc(srv.endpoint)
        .call('GetItem', {})
        .then(refused, (e: unknown) => e as Error);
      expect(error).toMatchObject({
        name: 'ProvisionedThroughputExceededException',
        message: 'slow down',
        $metadata: { httpStatusCode: 400, attempts: STORE_TIMEOUTS.attempts },
      });
      expect(srv.seen).toHaveLength(STORE_TIMEOUTS.attempts);
      expect(isOutage(error)).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('does not retry a ValidationException', async () => {
    const srv = await answers((res) =>
      json(res, 400, { __type: 'com.amazon.coral.validate#ValidationException', Message: 'bad key' }),
    );
    try {
      const error = await rpc(srv.endpoint)
        .call('GetItem', {})
        .then(refused, (e: unknown) => e as Error);
      expect(error).toMatchObject({ name: 'ValidationException', message: 'bad key', $fault: 'client' });
      expect(srv.seen).toHaveLength(1);
    } finally {
      await srv.close();
    }
  });

  it('retries a reset connection; after the last one the outcome is unknown', async () => {
    const srv = await answers((res) => res.socket?.destroy());
    try {
      const error = await rpc(srv.endpoint)
        .call('PutItem', {})
        .then(refused, (e: unknown) => e as Error & { code?: string });
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe('ECONNRESET');
      expect(srv.seen).toHaveLength(STORE_TIMEOUTS.attempts);
      expect(isOutage(error)).toBe(true);
      expect(isOutcomeUnknown(error)).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('an answer that is not HTTP is an outage: the error carries $metadata without a status', async () => {
    const srv = await answers((res) => res.socket?.end('NOT HTTP AT ALL\r\n\r\n'));
    try {
      const error = await rpc(srv.endpoint)
        .call('GetItem', {})
        .then(refused, (e: unknown) => e as Error & { code?: string; $metadata?: object });
      expect(error.code).toMatch(/^HPE_/);
      expect(error.$metadata).toEqual({ attempts: 1, totalRetryDelay: 0 });
      expect(isOutage(error)).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('a write whose first attempt went unanswered fails as unanswered, not as its retry’s refusal', async () => {
    const srv = await answers(
      (res) => res.socket?.destroy(),
      (res) =>
        json(res, 400, {
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
        }),
    );
    try {
      // The retry's condition may fail because the first attempt was applied: that is no refusal.
      const error = await rpc(srv.endpoint)
        .call('PutItem', { TableName: 't', ConditionExpression: 'attribute_not_exists(pk)' })
        .then(refused, (e: unknown) => e as Error & { code?: string });
      expect(srv.seen).toHaveLength(2);
      expect(error.code).toBe('ECONNRESET');
      expect((error.cause as Error).name).toBe('ConditionalCheckFailedException');
      expect(isConditionFailure(error)).toBe(false);
      expect(isOutcomeUnknown(error)).toBe(true);
      expect(isOutage(error)).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('a read whose retry fails fails with the retry’s error', async () => {
    const srv = await answers(
      (res) => res.socket?.destroy(),
      (res) =>
        json(res, 400, { __type: 'com.amazon.coral.validate#ValidationException', Message: 'bad key' }),
    );
    try {
      const error = await rpc(srv.endpoint)
        .call('GetItem', {})
        .then(refused, (e: unknown) => e as Error);
      expect(error.name).toBe('ValidationException');
    } finally {
      await srv.close();
    }
  });

  it('a transaction still in progress after its retry is an outage whose outcome is unknown', async () => {
    const inProgress = (res: ServerResponse) =>
      json(res, 400, {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionInProgressException',
        message: 'Transaction is ongoing for the idempotent request',
      });
    const srv = await answers((res) => res.socket?.destroy(), inProgress);
    try {
      const error = await rpc(srv.endpoint)
        .call('TransactWriteItems', { TransactItems: [], ClientRequestToken: 'token' })
        .then(refused, (e: unknown) => e as Error);
      expect((error.cause as Error).name).toBe('TransactionInProgressException');
      expect(isOutage(error)).toBe(true);
      expect(isOutcomeUnknown(error)).toBe(true);
    } finally {
      await srv.close();
    }
    // Also when every attempt is answered so: the first one may still commit.
    const again = await answers(inProgress);
    try {
      const error = await rpc(again.endpoint)
        .call('TransactWriteItems', { TransactItems: [], ClientRequestToken: 'token' })
        .then(refused, (e: unknown) => e as Error);
      expect(error.name).toBe('TransactionInProgressException');
      expect(isOutage(error)).toBe(true);
      expect(isOutcomeUnknown(error)).toBe(true);
    } finally {
      await again.close();
    }
  }, 10_000);

  it('ends an answer that trickles in a byte at a time within the store’s budget', async () => {
    const timers: NodeJS.Timeout[] = [];
    const srv = await answers((res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.write('{');
      timers.push(setInterval(() => res.write(' '), 300));
    });
    try {
      const started = Date.now();
      const error = await rpc(srv.endpoint)
        .call('GetItem', {})
        .then(refused, (e: unknown) => e as Error);
      expect(error.name).toBe('TimeoutError');
      expect(srv.seen).toHaveLength(STORE_TIMEOUTS.attempts);
      expect(Date.now() - started).toBeLessThan(budget);
    } finally {
      for (const t of timers) clearInterval(t);
      await srv.close();
    }
  }, 20_000);

  it('ends a stalled answer with a TimeoutError within the store’s budget', async () => {
    // Headers then nothing: the request timeout covers the body too.
    const srv = await answers((res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.write('{"Item":');
    });
    try {
      const started = Date.now();
      const error = await rpc(srv.endpoint)
        .call('GetItem', {})
        .then(refused, (e: unknown) => e as Error);
      const ms = Date.now() - started;
      expect(error.name).toBe('TimeoutError');
      expect(srv.seen).toHaveLength(STORE_TIMEOUTS.attempts);
      expect(ms).toBeGreaterThanOrEqual(STORE_TIMEOUTS.attempts * STORE_TIMEOUTS.requestTimeoutMs - 100);
      expect(ms).toBeLessThan(budget);
      expect(isOutage(error)).toBe(true);
      expect(isOutcomeUnknown(error)).toBe(true);
    } finally {
      await srv.close();
    }
  }, 20_000);
});

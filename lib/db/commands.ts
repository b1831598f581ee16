/**
 * The document client BuildState uses instead of @aws-sdk/lib-dynamodb's DynamoDBDocumentClient:
 * commands of the same names and input and output shapes (the types are lib-dynamodb's, erased
 * from bundles), sent as signed awsJson 1.0 requests (lib/aws/json-rpc.ts). As lib-dynamodb, it
 * marshalls Key, Item, ExpressionAttributeValues, ExclusiveStartKey and the items inside
 * TransactItems and RequestItems with @aws-sdk/util-dynamodb (undefined values removed), and
 * unmarshalls Item, Items, Attributes, LastEvaluatedKey, Responses and UnprocessedKeys; as
 * lib-dynamodb, items inside errors (CancellationReasons, a failed condition's Item) stay in
 * DynamoDB's form (lib/db/errors.ts unmarshalls them).
 */

import { randomUUID } from 'node:crypto';
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandOutput,
  QueryCommandOutput,
  ScanCommandOutput,
  DeleteCommandInput as SdkDeleteCommandInput,
  PutCommandInput as SdkPutCommandInput,
  QueryCommandInput as SdkQueryCommandInput,
  ScanCommandInput as SdkScanCommandInput,
  UpdateCommandInput as SdkUpdateCommandInput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { JsonRpcClient } from '../aws/json-rpc';

export type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandOutput,
  QueryCommandOutput,
  ScanCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandOutput,
};

/**
 * The legacy parameters lib-dynamodb's input types still allow, whose values this client does not
 * marshal: they are left out of the types, so a call can only use expressions.
 */
type Legacy =
  | 'KeyConditions'
  | 'QueryFilter'
  | 'ScanFilter'
  | 'Expected'
  | 'AttributeUpdates'
  | 'ConditionalOperator';
export type DeleteCommandInput = Omit<SdkDeleteCommandInput, Legacy>;
export type PutCommandInput = Omit<SdkPutCommandInput, Legacy>;
export type QueryCommandInput = Omit<SdkQueryCommandInput, Legacy>;
export type ScanCommandInput = Omit<SdkScanCommandInput, Legacy>;
export type UpdateCommandInput = Omit<SdkUpdateCommandInput, Legacy>;

type Doc = Record<string, unknown>;
type Wire = Record<string, unknown>;

const toWire = (doc: unknown): Wire => marshall(doc as Doc, { removeUndefinedValues: true }) as Wire;
const fromWire = (wire: unknown): Doc => unmarshall(wire as Parameters<typeof unmarshall>[0]);

/** Copies `input` with the named document fields marshalled (those present). */
function marshalled(input: object, fields: readonly string[]): Wire {
  const out: Wire = { ...input };
  for (const f of fields) if (out[f] !== undefined) out[f] = toWire(out[f]);
  return out;
}

/** Copies `output` with the named DynamoDB fields unmarshalled (those present). */
function unmarshalled(output: Wire, fields: readonly string[]): Wire {
  const out: Wire = { ...output };
  for (const f of fields) if (out[f] !== undefined) out[f] = fromWire(out[f]);
  return out;
}

/** A DynamoDB operation with document-form input `I` and output `O`. */
export abstract class DocumentCommand<I extends object, O> {
  /** Only for the type of `send`'s result. */
  declare readonly __output?: O;
  abstract readonly operation: string;
  constructor(readonly input: I) {}
  /** The input as DynamoDB takes it. */
  abstract toWire(): Wire;
  /** The output in document form. */
  abstract fromWire(output: Wire): O;
}

const KEY_FIELDS = ['Key', 'ExpressionAttributeValues'] as const;
const ITEM_FIELDS = ['Item', 'ExpressionAttributeValues'] as const;
const PAGE_FIELDS = ['ExpressionAttributeValues', 'ExclusiveStartKey'] as const;

export class GetCommand extends DocumentCommand<GetCommandInput, GetCommandOutput> {
  readonly operation = 'GetItem';
  toWire() {
    return marshalled(this.input, ['Key']);
  }
  fromWire(out: Wire) {
    return unmarshalled(out, ['Item']) as GetCommandOutput;
  }
}

export class PutCommand extends DocumentCommand<PutCommandInput, PutCommandOutput> {
  readonly operation = 'PutItem';
  toWire() {
    return marshalled(this.input, ITEM_FIELDS);
  }
  fromWire(out: Wire) {
    return unmarshalled(out, ['Attributes']) as PutCommandOutput;
  }
}

export class UpdateCommand extends DocumentCommand<UpdateCommandInput, UpdateCommandOutput> {
  readonly operation = 'UpdateItem';
  toWire() {
    return marshalled(this.input, KEY_FIELDS);
  }
  fromWire(out: Wire) {
    return unmarshalled(out, ['Attributes']) as UpdateCommandOutput;
  }
}

export class DeleteCommand extends DocumentCommand<DeleteCommandInput, DeleteCommandOutput> {
  readonly operation = 'DeleteItem';
  toWire() {
    return marshalled(this.input, KEY_FIELDS);
  }
  fromWire(out: Wire) {
    return unmarshalled(out, ['Attributes']) as DeleteCommandOutput;
  }
}

function page(out: Wire): Wire {
  const res = unmarshalled(out, ['LastEvaluatedKey']);
  if (Array.isArray(out.Items)) res.Items = out.Items.map(fromWire);
  return res;
}

export class QueryCommand extends DocumentCommand<QueryCommandInput, QueryCommandOutput> {
  readonly operation = 'Query';
  toWire() {
    return marshalled(this.input, PAGE_FIELDS);
  }
  fromWire(out: Wire) {
    return page(out) as QueryCommandOutput;
  }
}

export class ScanCommand extends DocumentCommand<ScanCommandInput, ScanCommandOutput> {
  readonly operation = 'Scan';
  toWire() {
    return marshalled(this.input, PAGE_FIELDS);
  }
  fromWire(out: Wire) {
    return page(out) as ScanCommandOutput;
  }
}

export class TransactWriteCommand extends DocumentCommand<
  TransactWriteCommandInput,
  TransactWriteCommandOutput
> {
  readonly operation = 'TransactWriteItems';
  /**
   * As the SDK, with a ClientRequestToken of its own when the caller gave none: the same for every
   * attempt of this send, so a retry after a lost answer is not applied twice (DynamoDB answers a
   * repeated token with the first outcome, for 10 minutes) nor refused by its own first write.
   */
  toWire() {
    return {
      ...this.input,
      ClientRequestToken: this.input.ClientRequestToken ?? randomUUID(),
      TransactItems: this.input.TransactItems?.map((item) => {
        const out: Wire = { ...item };
        if (item.Put) out.Put = marshalled(item.Put, ITEM_FIELDS);
        if (item.Update) out.Update = marshalled(item.Update, KEY_FIELDS);
        if (item.Delete) out.Delete = marshalled(item.Delete, KEY_FIELDS);
        if (item.ConditionCheck) out.ConditionCheck = marshalled(item.ConditionCheck, KEY_FIELDS);
        return out;
      }),
    };
  }
  /** Item collection metrics are never asked for here: the output is capacity and metadata. */
  fromWire(out: Wire) {
    return out as TransactWriteCommandOutput;
  }
}

type KeysAndAttributes = { Keys?: unknown[] } & Record<string, unknown>;
const mapKeys = (requests: unknown, convert: (key: unknown) => unknown): Wire | undefined =>
  requests
    ? Object.fromEntries(
        Object.entries(requests as Record<string, KeysAndAttributes>).map(([table, r]) => [
          table,
          r.Keys ? { ...r, Keys: r.Keys.map(convert) } : r,
        ]),
      )
    : undefined;

export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  readonly operation = 'BatchGetItem';
  toWire() {
    return { ...this.input, RequestItems: mapKeys(this.input.RequestItems, toWire) };
  }
  fromWire(out: Wire) {
    const res: Wire = { ...out };
    const responses = out.Responses as Record<string, unknown[]> | undefined;
    if (responses)
      res.Responses = Object.fromEntries(
        Object.entries(responses).map(([table, items]) => [table, items.map(fromWire)]),
      );
    if (out.UnprocessedKeys) res.UnprocessedKeys = mapKeys(out.UnprocessedKeys, fromWire);
    return res as BatchGetCommandOutput;
  }
}

/** Sends document commands over one signed DynamoDB caller. */
export class DocumentClient {
  constructor(private readonly rpc: Pick<JsonRpcClient, 'call'>) {}

  async send<I extends object, O>(command: DocumentCommand<I, O>): Promise<O> {
    return command.fromWire(await this.rpc.call<Wire>(command.operation, command.toWire()));
  }

  /**
   * Nothing to release, unlike an SDK client: connections belong to node:http(s)' global agents,
   * whose idle sockets do not keep a process alive. Kept so scripts can end with it as before.
   */
  destroy(): void {}
}

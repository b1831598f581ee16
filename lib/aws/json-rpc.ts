/**
 * AWS's JSON protocols (awsJson 1.0: DynamoDB; 1.1: Secrets Manager, EventBridge) as signed
 * requests, for the Lambda functions: `POST /` with the operation in `X-Amz-Target` and the input
 * as JSON, signed with SigV4, retried as the SDK's standard strategy retries (lib/aws/signed-http.ts).
 * Errors have the SDK's shape, which lib/db/errors.ts reads: `name` is the AWS error code, `message`
 * the service's, `$metadata.httpStatusCode` the status, and the body's other fields
 * (`CancellationReasons`, `Item` …) are properties of the error. A call that got no answer in time
 * fails with a `TimeoutError`; socket errors keep their `code`.
 */
import {
  awsSigner,
  backoffMs,
  type Credentials,
  dnsSuffix,
  readText,
  retryKind,
  STORE_TIMEOUTS,
  sendRequest,
  sentWithoutAnswer,
} from './signed-http';

/** Operations that change something: after an unanswered attempt, their retry's failure is not the last word. */
const WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
  'PutEvents',
]);

/** The services the functions call, as their JSON protocols name them. */
export const DYNAMODB = {
  service: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
  endpointVariable: 'AWS_ENDPOINT_URL_DYNAMODB',
} as const;
export const SECRETS_MANAGER = {
  service: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
  endpointVariable: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
} as const;
export const EVENTBRIDGE = {
  service: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
  endpointVariable: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
} as const;

export interface JsonServiceOptions {
  /** The signing name, which is also the endpoint's prefix: `dynamodb`, `secretsmanager`, `events`. */
  service: string;
  /** X-Amz-Target's prefix: `DynamoDB_20120810`, `secretsmanager`, `AWSEvents`. */
  targetPrefix: string;
  jsonVersion: '1.0' | '1.1';
  region: string;
  /** A local endpoint (DynamoDB Local) instead of the region's. */
  endpoint?: string;
  /**
   * The SDK's service-specific endpoint variable (`AWS_ENDPOINT_URL_DYNAMODB` …), honoured as the
   * SDK honours it: then `AWS_ENDPOINT_URL`, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
   */
  endpointVariable?: string;
  /** Fixed credentials (local engines); the standard provider chain otherwise. */
  credentials?: Credentials;
  /**
   * Members whose values are blobs (base64 on the wire, bytes in code) or lists of blobs, at any
   * depth of an answer: DynamoDB's `B` and `BS`. Bytes in an input are always sent as base64.
   */
  blobMembers?: readonly string[];
}

/** What the SDK puts in `$metadata` and we keep: the status, the request id and the attempts made. */
export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  attempts: number;
  totalRetryDelay: number;
}

/** An error the service answered, in the SDK's shape. */
export type ServiceError = Error & { $metadata: ResponseMetadata; $fault: 'client' | 'server' } & Record<
    string,
    unknown
  >;

/** The error code as the SDK reads it: `x-amzn-ErrorType`, else the body's `code` or `__type`, without namespace. */
function errorCode(header: string | undefined, body: Record<string, unknown>): string | undefined {
  const raw = header ?? (typeof body.code === 'string' ? body.code : undefined) ?? body.__type;
  if (typeof raw !== 'string') return undefined;
  const clean = raw.split(',')[0]!.split(':')[0]!;
  return clean.includes('#') ? clean.slice(clean.lastIndexOf('#') + 1) : clean;
}

function configuredEndpoint(variable: string | undefined): string | undefined {
  const env = process.env;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return (variable ? env[variable] : undefined) || env.AWS_ENDPOINT_URL || undefined;
}

/**
 * Bytes as the JSON protocols send them: base64, for any view of bytes or an ArrayBuffer (the
 * replacer sees the value before Buffer's toJSON).
 */
function bytesAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (ArrayBuffer.isView(raw))
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('base64');
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class JsonRpcClient {
  private readonly url: URL;
  private readonly signer: ReturnType<typeof awsSigner>;
  private readonly contentType: string;

  constructor(private readonly opts: JsonServiceOptions) {
    this.url = new URL(
      opts.endpoint ??
        configuredEndpoint(opts.endpointVariable) ??
        `https://${opts.service}.${opts.region}.${dnsSuffix(opts.region)}`,
    );
    this.signer = awsSigner({
      service: opts.service,
      region: opts.region,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
    this.contentType = `application/x-amz-json-${opts.jsonVersion}`;
    const blobs = new Set(opts.blobMembers ?? []);
    // Plain Uint8Array, as the SDK's clients return blobs (a Buffer would JSON-serialise differently).
    const decode = (v: unknown) => (typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : v);
    // A reviver visits every value: it only runs on answers that may hold a blob member at all.
    const marks = [...blobs].map((name) => `"${name}":`);
    this.parse = (text) =>
      blobs.size > 0 && marks.some((m) => text.includes(m))
        ? JSON.parse(text, (key, value) =>
            blobs.has(key) ? (Array.isArray(value) ? value.map(decode) : decode(value)) : value,
          )
        : JSON.parse(text);
  }

  private readonly parse: (text: string) => Record<string, unknown>;

  /**
   * One operation, retried on throttling and transient failures up to STORE_TIMEOUTS.attempts
   * attempts with the SDK's jittered backoff; never on other errors (a 4xx is final). A failure
   * that got no answer at all carries `$metadata` without a status (an outage, as the SDK's
   * wrapper has it); one to sign the request (no credentials) is thrown as it is. A write whose earlier attempt went unanswered and whose retry failed fails
   * with that first, unanswered error (the retry's as its `cause`): it may have been applied, and a
   * retry refused by the write's own first attempt (its condition no longer holds) must not read
   * as a refusal. A transaction's retry carries its ClientRequestToken, so its answer is final,
   * except TransactionInProgressException.
   */
  async call<T>(operation: string, input: unknown): Promise<T & { $metadata: ResponseMetadata }> {
    const body = JSON.stringify(input ?? {}, bytesAsBase64);
    let totalRetryDelay = 0;
    let unanswered: Error | undefined;
    for (let attempt = 1; ; attempt++) {
      // Outside the try: a request that cannot be signed (no credentials) is a fault of the
      // deployment, not of the store, and is thrown as it is, without retry.
      const signed = await this.sign(operation, body);
      try {
        const out = await this.attempt(operation, signed.headers, body, attempt, totalRetryDelay);
        return out as T & { $metadata: ResponseMetadata };
      } catch (caught) {
        const error = caught as Error & { $metadata?: ResponseMetadata };
        error.$metadata ??= { attempts: attempt, totalRetryDelay };
        const kind = retryKind(error);
        if (!kind || attempt >= STORE_TIMEOUTS.attempts) {
          if (unanswered && unanswered !== error && WRITES.has(operation)) {
            const final = !(
              operation === 'TransactWriteItems' && error.name === 'TransactionCanceledException'
            );
            if (final) throw Object.assign(unanswered, { cause: error });
          }
          throw error;
        }
        if (!unanswered && sentWithoutAnswer(error)) unanswered = error;
        const delay = backoffMs(kind, attempt - 1);
        totalRetryDelay += delay;
        await sleep(delay);
      }
    }
  }

  private sign(operation: string, body: string) {
    const path = this.url.pathname || '/';
    return this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      path,
      query: {},
      headers: {
        'content-type': this.contentType,
        'x-amz-target': `${this.opts.targetPrefix}.${operation}`,
        'content-length': String(Buffer.byteLength(body)),
        host: this.url.host,
      },
      body,
    });
  }

  private async attempt(
    operation: string,
    headers: Record<string, string>,
    body: string,
    attempts: number,
    totalRetryDelay: number,
  ) {
    const res = await sendRequest(this.url, 'POST', headers, body, { untilEnd: true });
    const text = await readText(res);
    const status = res.statusCode ?? 0;
    const requestId = res.headers['x-amzn-requestid'];
    const $metadata: ResponseMetadata = {
      httpStatusCode: status,
      ...(typeof requestId === 'string' ? { requestId } : {}),
      attempts,
      totalRetryDelay,
    };
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? this.parse(text) : {};
    } catch {
      if (status < 300) throw Object.assign(new Error(`${operation}: the answer is not JSON`), { $metadata });
    }
    if (status >= 200 && status < 300) return { ...parsed, $metadata };
    const header = res.headers['x-amzn-errortype'];
    const name = errorCode(typeof header === 'string' ? header : undefined, parsed) ?? `Http${status}Error`;
    const { __type: _type, message, Message, code: _code, ...fields } = parsed;
    const description = typeof message === 'string' ? message : typeof Message === 'string' ? Message : name;
    throw Object.assign(new Error(description), fields, {
      name,
      $metadata,
      $fault: status >= 500 ? 'server' : 'client',
    }) as ServiceError;
  }
}

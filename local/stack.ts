/**
 * The whole service on one machine: DynamoDB Local, the table, a bootstrap admin key, the
 * `default` project and the
 * gateway in front of the real handlers. Used by `npm start`, the integration tests and bench/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SYSTEM_PRINCIPAL } from '../lib/auth/principal';
import { ENV } from '../lib/config/env';
import { backfillDashboard } from '../lib/dashboard/backfill';
import { detectStuck } from '../lib/events/stuck-detector';
import { ensureSampleData } from '../lib/reference/sample-data';
import { services } from '../lib/runtime';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { ensureTable } from './ensure-table';
import { type EventStream, startEventStream } from './event-stream';
import { type Gateway, startGateway } from './gateway';
import { type S3Local, startS3Local } from './s3-local';

export interface LocalStackOptions {
  /** Persist under this folder; omit for an in-memory database (tests, benchmarks). */
  dataDir?: string;
  /** Use an already running DynamoDB Local instead of starting one (tests share one engine). */
  dynamodbEndpoint?: string;
  port?: number;
  host?: string;
  tableName?: string;
  artifactsBucket?: string;
  /** BUILDSTATE_BOOTSTRAP_ADMIN_KEY: this exact secret becomes an admin key. */
  bootstrapAdminKey?: string;
  /** Create the sample reference data (lib/reference/sample-data.ts) when this start creates the table. */
  sampleData?: boolean;
  log?: (line: string) => void;
  /** Where to say that a DynamoDB Local a killed start left on the data folder was stopped (default stderr). */
  notice?: (line: string) => void;
  /**
   * Publish events from the table stream (local/event-stream.ts) and run the stuck detector every
   * `stuckIntervalMs`. `npm start` turns this on with files in the data folder; tests that check
   * events turn it on for their table.
   */
  events?: { logFile?: string; checkpointFile?: string; stuckIntervalMs?: number; pollMs?: number };
  /**
   * Run multipart upload completion jobs from the table stream, as the completion worker Lambda
   * does (default true). Without `events`, a reader of its own does only this. False leaves
   * completions `completing` with no worker (tests of a lost worker).
   */
  completeUploads?: boolean;
}

export interface LocalStack {
  url: string;
  tableName: string;
  /** The engine this stack started, or null when it was given an endpoint. */
  dynamodb: DynamoDbLocal | null;
  s3: S3Local;
  gateway: Gateway;
  /** The admin key to print: the chosen one, a freshly generated one, or null if one was generated before. */
  adminKey: { secret: string; generated: boolean } | null;
  /** How many sample reference items this start created (0 unless it created the table). */
  sampleData: number;
  /** The access key id SigV4 requests are verified against, or null when SigV4 is off. */
  sigv4: string | null;
  /** The event publisher, when `events` was asked for, else the stream reader running upload completions. */
  events: EventStream | null;
  stop(): Promise<void>;
}

function localJwtSecret(dataDir: string | undefined): string {
  if (!dataDir) return randomBytes(32).toString('base64url');
  const file = resolve(dataDir, 'jwt-secret');
  if (!existsSync(file))
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dbPath = options.dataDir ? resolve(options.dataDir, 'dynamodb') : undefined;
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  const dynamodb = options.dynamodbEndpoint
    ? null
    : await startDynamoDbLocal({ dbPath, notice: options.notice });
  const endpoint = options.dynamodbEndpoint ?? dynamodb!.endpoint;
  let s3: S3Local | undefined;
  let events: EventStream | null = null;
  let detector: NodeJS.Timeout | undefined;
  let barrier: DynamoDBClient | undefined;
  try {
    s3 = await startS3Local({
      directory: options.dataDir ? resolve(options.dataDir, 's3') : undefined,
      bucket: options.artifactsBucket ?? 'buildstate-artifacts',
    });
    process.env[ENV.s3Endpoint] = s3.endpoint;
    process.env[ENV.artifactsBucket] = s3.bucket;
    const tableName = options.tableName ?? 'buildstate';
    process.env[ENV.tableName] = tableName;
    process.env[ENV.dynamodbEndpoint] = endpoint;
    // Local JWTs need a signing secret: the one given, else one kept in the data folder (so
    // tokens survive a restart), else a fresh one for this in-memory run.
    process.env[ENV.jwtSecret] ??= localJwtSecret(options.dataDir);
    // The provenance signing key (docs/PROVENANCE.md): a file in the data folder, made on first
    // use (mode 0600); in memory, one file per process in a private temporary folder.
    process.env[ENV.signingKeyFile] ??= options.dataDir
      ? resolve(options.dataDir, 'provenance-signing-key.pem')
      : join(mkdtempSync(join(tmpdir(), 'buildstate-signing-')), 'provenance-signing-key.pem');
    const admin = new DynamoDBClient({
      endpoint,
      region: process.env[ENV.region] ?? 'us-east-1',
      credentials: { accessKeyId: 'buildstate', secretAccessKey: 'local' },
    });
    const created = await ensureTable(admin, tableName);
    admin.destroy();
    /*
     * DynamoDB Local (3.3.0, -dbPath) answers a TransactWriteItems before that transaction is
     * durable in its SQLite file: it is committed when the engine serves its next request. Killed
     * (SIGKILL) in between, the engine comes back without the last transaction it acknowledged
     * (measured: the last acknowledged transaction lost in 3 of 5 kills of a bare engine, 1 of
     * ~1,100 reports under `npm start`, where the stream reader's polls usually come next).
     * The engine serves requests one at a time, so one more request after a write makes it
     * durable: the gateway sends one before answering any request that may have written
     * (GatewayOptions.settle). In memory there is nothing to make durable.
     */
    barrier = dbPath
      ? new DynamoDBClient({
          endpoint,
          region: process.env[ENV.region] ?? 'us-east-1',
          credentials: { accessKeyId: 'buildstate', secretAccessKey: 'local' },
        })
      : undefined;
    // A data folder from before live items and counters: count its builds once, before any report.
    const upgrade = await backfillDashboard(services().db, tableName);
    if (upgrade.backfilled > 0)
      options.log?.(`dashboard: counted ${upgrade.backfilled} builds made by an earlier version`);
    const adminKey = await services().apiKeys.ensureBootstrapAdminKey(options.bootstrapAdminKey);
    await services().references.ensureDefaultProject(SYSTEM_PRINCIPAL);
    const sampleData =
      created && options.sampleData ? await ensureSampleData(services().references, SYSTEM_PRINCIPAL) : 0;
    const id = process.env[ENV.localAwsAccessKeyId];
    const secret = process.env[ENV.localAwsSecretAccessKey];
    if (options.events) {
      events = await startEventStream({
        endpoint,
        tableName,
        region: services().config.region,
        retryLoopAfter: services().config.retryLoopAfter,
        logFile: options.events.logFile,
        checkpointFile: options.events.checkpointFile,
        pollMs: options.events.pollMs,
        completeUploads: options.completeUploads !== false,
      });
      const every = options.events.stuckIntervalMs;
      if (every) {
        detector = setInterval(() => {
          const { dashboard, outbox } = services();
          detectStuck(dashboard, outbox).catch((error: Error) =>
            console.error('stuck detector:', error.message),
          );
        }, every);
        detector.unref();
      }
    }
    if (!events && options.completeUploads !== false)
      // From the stream's end: only completions asked for from now on (a data folder's older ones
      // are restarted by their next poll after the lease).
      events = await startEventStream({
        endpoint,
        tableName,
        region: services().config.region,
        retryLoopAfter: services().config.retryLoopAfter,
        publish: false,
        aggregate: false,
        sign: false,
        fromLatest: true,
      });
    const gateway = await startGateway({
      port: options.port,
      host: options.host,
      log: options.log,
      settle: settleWith(barrier),
      sigv4:
        id && secret
          ? { accessKeyId: id, secretAccessKey: secret, region: services().config.region }
          : undefined,
      events: options.events ? events?.feed : undefined,
    });
    return {
      url: gateway.url,
      tableName,
      dynamodb,
      s3,
      gateway,
      adminKey,
      sampleData,
      sigv4: id && secret ? id : null,
      events,
      stop: async () => {
        if (detector) clearInterval(detector);
        await events?.stop();
        await gateway.close();
        barrier?.destroy();
        await s3?.stop();
        await dynamodb?.stop();
      },
    };
  } catch (error) {
    if (detector) clearInterval(detector);
    barrier?.destroy();
    await events?.stop();
    await s3?.stop();
    await dynamodb?.stop();
    throw error;
  }
}

/** The gateway's commit barrier: one request the engine serves after the write (see startLocalStack). */
const settleWith = (client: DynamoDBClient | undefined) =>
  client ? () => client.send(new ListTablesCommand({ Limit: 1 })).then(() => undefined) : undefined;

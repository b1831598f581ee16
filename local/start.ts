/**
 * `npm start`: the service on this machine, persisted under BUILDSTATE_DATA_DIR.
 * Settings: PORT (8080), BUILDSTATE_HOST (127.0.0.1), BUILDSTATE_DATA_DIR (.data),
 * BUILDSTATE_BOOTSTRAP_ADMIN_KEY, BUILDSTATE_MAX_ATTEMPTS, BUILDSTATE_ACCESS_LOG (0 turns request lines off),
 * BUILDSTATE_STUCK_INTERVAL_S (30: how often the stuck detector runs), BUILDSTATE_SAMPLE_DATA (0: no
 * sample reference data on the first start of a data folder).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertPortFree, lockDataDir, MissingJavaError } from './processes';
import { SERVICE_FILE, writeServiceFile } from './service-file';
import { type LocalStack, startLocalStack } from './stack';

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const port = Number(process.env.PORT || 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`PORT must be a port number, got '${process.env.PORT}'`);
  const host = process.env.BUILDSTATE_HOST || '127.0.0.1';
  const dataDir = resolve(process.env.BUILDSTATE_DATA_DIR || '.data');
  const accessLog = process.env.BUILDSTATE_ACCESS_LOG !== '0';
  const stuckInterval = Number(process.env.BUILDSTATE_STUCK_INTERVAL_S || 30);
  if (!Number.isInteger(stuckInterval) || stuckInterval < 1)
    fail(
      `BUILDSTATE_STUCK_INTERVAL_S must be a whole number of seconds, got '${process.env.BUILDSTATE_STUCK_INTERVAL_S}'`,
    );

  await assertPortFree(port, host).catch((error: NodeJS.ErrnoException) =>
    fail(error.code === 'EADDRINUSE' ? `Port ${port} is in use; set PORT to another port` : error.message),
  );
  mkdirSync(dataDir, { recursive: true });
  let unlock: () => void = () => undefined;
  try {
    unlock = await lockDataDir(dataDir);
  } catch (error) {
    fail((error as Error).message);
  }

  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      dataDir,
      port,
      host,
      bootstrapAdminKey: process.env.BUILDSTATE_BOOTSTRAP_ADMIN_KEY || undefined,
      sampleData: process.env.BUILDSTATE_SAMPLE_DATA !== '0',
      log: accessLog ? (line) => console.log(line) : undefined,
      notice: (line) => console.log(line),
      events: {
        logFile: resolve(dataDir, 'events.jsonl'),
        checkpointFile: resolve(dataDir, 'events.checkpoint.json'),
        stuckIntervalMs: stuckInterval * 1000,
      },
    });
  } catch (error) {
    unlock();
    if (error instanceof MissingJavaError) fail(error.message);
    throw error;
  }

  // What tools run beside the service read (npm run sweep:artifacts); gone when it stops.
  const removeServiceFile = writeServiceFile(dataDir, {
    url: stack.url,
    table_name: stack.tableName,
    artifacts_bucket: stack.s3.bucket,
    dynamodb_endpoint: stack.dynamodb?.endpoint ?? '',
    dynamodb_pid: stack.dynamodb?.pid ?? null,
    s3_endpoint: stack.s3.endpoint,
    region: process.env.AWS_REGION || 'us-east-1',
  });
  // DynamoDB Local kills itself with this process (local/dynamodb-local.ts); the lock goes too.
  process.on('exit', () => {
    removeServiceFile();
    unlock();
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping BuildState (gateway, DynamoDB Local pid ${stack.dynamodb?.pid})`);
    await stack.stop();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

  const key = stack.adminKey;
  console.log(
    [
      `BuildState is running at ${stack.url}`,
      `  data:           ${dataDir}`,
      `  DynamoDB Local: ${stack.dynamodb?.endpoint} (pid ${stack.dynamodb?.pid}, table ${stack.tableName})`,
      `  S3 (s3rver):    ${stack.s3.endpoint} (bucket ${stack.s3.bucket})`,
      key?.generated
        ? `  admin API key:  ${key.secret}\n                  (shown once: only its hash is stored; set BUILDSTATE_BOOTSTRAP_ADMIN_KEY to choose your own)`
        : key
          ? '  admin API key:  the value of BUILDSTATE_BOOTSTRAP_ADMIN_KEY'
          : '  admin API key:  printed on the first start of this data folder (only its hash is kept);\n                  set BUILDSTATE_BOOTSTRAP_ADMIN_KEY to add a key you choose',
      stack.sigv4
        ? `  SigV4:          verified for access key ${stack.sigv4} (service execute-api)`
        : '  SigV4:          off (set BUILDSTATE_LOCAL_AWS_ACCESS_KEY_ID and BUILDSTATE_LOCAL_AWS_SECRET_ACCESS_KEY)',
      ...(stack.sampleData
        ? [
            `  sample data:    ${stack.sampleData} items (platforms, OS versions, image types, a project) the examples use (BUILDSTATE_SAMPLE_DATA=0 turns this off)`,
          ]
        : []),
      `  events:         ${resolve(dataDir, 'events.jsonl')} (stuck detector every ${stuckInterval} s)`,
      `  dashboard:      ${stack.url}/ (paste an API key)`,
      `  API reference:  ${stack.url}/docs (OpenAPI document at ${stack.url}/openapi.json)`,
      `  service file:   ${resolve(dataDir, SERVICE_FILE)} (this address and the engines', while it runs)`,
      '',
      'Point bldst at it (in the shell you run bldst from):',
      `  export BUILDSTATE_API_URL=${stack.url} BUILDSTATE_API_TOKEN=${
        key?.generated
          ? key.secret
          : key
            ? chosenKeyForPaste(key.secret)
            : '<the admin key printed on the first start>'
      }`,
      `Try: curl ${stack.url}/health`,
      'Stop with Ctrl-C.',
    ].join('\n'),
  );
}

/**
 * The paste line is run in another shell, where BUILDSTATE_BOOTSTRAP_ADMIN_KEY is not set: it has
 * to carry the key itself. The key is one the user typed on this terminal's command line, so it
 * is shown there (shell-quoted); when the output is not a terminal (a log, a supervisor) a key
 * that may come from a secret store is not written out, and the line names the variable instead.
 */
function chosenKeyForPaste(secret: string): string {
  if (!process.stdout.isTTY) return "'<the value of BUILDSTATE_BOOTSTRAP_ADMIN_KEY>'";
  return /^[\w.,:/@%+=-]+$/.test(secret) ? secret : `'${secret.replaceAll("'", "'\\''")}'`;
}

function fail(message: string): never {
  console.error(`buildstate: ${message}`);
  process.exit(1);
}

main().catch((error) => {
  console.error('buildstate: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});

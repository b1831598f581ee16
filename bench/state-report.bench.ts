/**
 * npm run bench — cost of the service around the one write it must make.
 *
 * Baselines: the two items a report must write (build + history, a plain two-item transaction)
 * and the very TransactWriteItems a report commits (BuildService.changeTransaction: the build put
 * conditioned on its version and lease_id, and the history put; the live item only when a lease
 * needs its expiry checked, which these reports without a lease on builds without one never do),
 * sent straight to DynamoDB Local. Subject: POST /builds/{id}/states through the local gateway and the real handlers (auth
 * lookup, build read, rules, the same transaction). All run in this process against one in-memory
 * DynamoDB Local, interleaved in rounds so drift in the engine (JIT warm-up, GC) hits all alike.
 * Prints p50/p99 and their ratios, then reports/s at concurrency 1, 8 and 32 next to both raw
 * transactions/s, then the dashboard's freshness: how long after a report commits its counters
 * show, with the local stream aggregator running (started only for that part, so it does not
 * load the engine during the timings above).
 */

import { Agent, request } from 'node:http';
import { apiKeyIdFor, apiKeyItemKey, hashApiKey } from '../lib/auth/api-key';
import type { Build } from '../lib/builds/build.model';
import { BuildRepository } from '../lib/builds/build.repository';
import { BuildService } from '../lib/builds/build.service';
import { applyReport, type RuleContext } from '../lib/builds/transitions';
import { defaultCatalog } from '../lib/catalog/state-catalog';
import { summaryKey } from '../lib/dashboard/aggregates';
import { createDocumentClient } from '../lib/db/client';
import { GetCommand, TransactWriteCommand } from '../lib/db/commands';
import { batchGetAll } from '../lib/db/items';
import { IdempotencyRepository } from '../lib/idempotency/idempotency.repository';
import { startEventStream } from '../local/event-stream';
import { startLocalStack } from '../local/stack';
import { seedReferences } from './seed';

const KEY = 'bst_bench_admin_key';
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const WARMUP = 150;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const stack = await startLocalStack({ bootstrapAdminKey: KEY, tableName: 'bench' });
await seedReferences(stack.url, KEY, 'bench');
// The raw baselines send through the same SDK client as the service's, made the same way
// (lib/db/client.ts: lib-dynamodb's DynamoDBDocumentClient over DynamoDBClient, same timeouts).
const db = createDocumentClient({ region: 'us-east-1', dynamodbEndpoint: stack.dynamodb!.endpoint });

/** A source of valid reports: each build takes in_progress/completed for codes 0..99. */
function reporter() {
  let build = '';
  let step = 200;
  return async (): Promise<{ path: string; body: string }> => {
    if (step >= 200) {
      const res = await post('/builds', JSON.stringify({ platform_id: 'bench', image_type_id: 'bench' }));
      build = (JSON.parse(res.text) as { id: string }).id;
      step = 0;
    }
    const code = Math.floor(step / 2);
    const status = step % 2 === 0 ? 'in_progress' : 'completed';
    step++;
    return { path: `/builds/${build}/states`, body: JSON.stringify({ state_code: code, status }) };
  };
}

/**
 * The bench's own HTTP client: node:http over one kept-alive agent, the least a client can cost.
 * It runs in this process, beside the gateway and handlers it times, so its CPU is on their event
 * loop; `fetch` (undici and its web streams) took ~0.5 ms of it per request, which a real caller
 * (curl, bldst) pays in its own process.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const gateway = new URL(stack.url);

function post(path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: gateway.hostname,
        port: gateway.port,
        method: 'POST',
        path,
        headers: {
          'x-api-key': KEY,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 201) reject(new Error(`${path}: ${res.statusCode} ${text}`));
          else resolve({ status: res.statusCode, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `full`: the very transaction the service commits for a report (BuildService.changeTransaction,
 * BuildRepository.commit), computed by the same rules but sent directly; `core`: build + history
 * as two plain puts, the least any report can write.
 */
function rawWriter(items: 'full' | 'core' = 'full') {
  const repo = new BuildRepository(db, 'bench');
  // Only to compose the very transaction a report commits (BuildService.changeTransaction).
  const service = new BuildService({
    builds: repo,
    idempotency: new IdempotencyRepository(db, 'bench', 3600),
    catalogs: { forProject: async () => defaultCatalog },
    defaultMaxAttempts: 3,
  });
  const ctx = (): RuleContext => ({
    catalog: defaultCatalog,
    defaultMaxAttempts: 3,
    now: new Date().toISOString(),
    actor: 'key:bench',
  });
  let build: Build | null = null;
  let step = 200;
  return async () => {
    if (step >= 200 || !build) {
      const id = `raw-${Math.random().toString(36).slice(2)}`;
      await service.create(
        { id, project_id: 'default', platform_id: 'bench', image_type_id: 'bench', metadata: {} },
        { id: 'key:bench', type: 'api_key', name: 'bench', scopes: ['write'] },
      );
      build = await repo.get(id);
      step = 0;
    }
    const change = applyReport(
      build!,
      { state_code: Math.floor(step / 2), status: step % 2 === 0 ? 'in_progress' : 'completed' },
      ctx(),
    );
    step++;
    if (items === 'full') {
      const tx = service.changeTransaction(
        change,
        build!,
        {},
        { outcome: 'created', body: {} },
        { leaseId: null },
      );
      const result = await repo.commit(tx);
      if (!result.committed) throw new Error(`raw commit refused by ${[...result.failed]}`);
    } else {
      await db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: 'bench',
                Item: { pk: `BUILD#${build!.id}#core`, sk: 'BUILD', ...change.build },
                ConditionExpression: 'attribute_not_exists(pk) OR #v = :expected',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':expected': build!.version },
              },
            },
            {
              Put: {
                TableName: 'bench',
                Item: {
                  pk: `BUILD#${build!.id}#core`,
                  sk: `HIST#${String(change.build.version).padStart(10, '0')}`,
                  ...change.history,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    }
    build = change.build;
  };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function latency() {
  const nextReport = reporter();
  const raw = rawWriter('full');
  const core = rawWriter('core');
  for (let i = 0; i < WARMUP; i++) {
    await raw();
    await core();
    const r = await nextReport();
    await post(r.path, r.body);
  }
  const rawTimes: number[] = [];
  const coreTimes: number[] = [];
  const apiTimes: number[] = [];
  const keyTimes: number[] = [];
  // The read every request makes before it runs (the authorizer's, or the local gateway's).
  const keyLookup = () =>
    db.send(
      new GetCommand({
        TableName: 'bench',
        Key: apiKeyItemKey(apiKeyIdFor(hashApiKey(KEY))),
        ConsistentRead: true,
      }),
    );
  for (let i = 0; i < SAMPLES; i++) {
    rawTimes.push(await time(raw));
    coreTimes.push(await time(core));
    keyTimes.push(await time(keyLookup));
    const r = await nextReport();
    apiTimes.push(await time(() => post(r.path, r.body)));
  }
  for (const t of [rawTimes, coreTimes, apiTimes, keyTimes]) t.sort((a, b) => a - b);
  return { rawTimes, coreTimes, apiTimes, keyTimes };
}

/** Operations per second when `concurrency` workers each loop over their own `work()` until time is up. */
async function throughput(concurrency: number, seconds: number, worker: () => () => Promise<unknown>) {
  let count = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const work = worker();
      while (Date.now() < deadline) {
        await work();
        count++;
      }
    }),
  );
  return count / seconds;
}

const reportWorker = () => {
  const next = reporter();
  return async () => {
    const r = await next();
    await post(r.path, r.body);
  };
};

/**
 * Dashboard freshness: with the local aggregator polling the stream (as `npm start` runs it), the
 * time from a report's 201 until the summary counters include it (polled every 5 ms).
 */
async function freshness() {
  const consumer = await startEventStream({
    endpoint: stack.dynamodb!.endpoint,
    tableName: 'bench',
    region: 'us-east-1',
    retryLoopAfter: 2,
    publish: false,
  });
  try {
    await consumer.drain();
    const total = async () => {
      const items = await batchGetAll(db, 'bench', [0, 1, 2, 3].map(summaryKey));
      return items.reduce((n, i) => n + Number(i.builds_total ?? 0), 0);
    };
    const lags: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = await total();
      const started = process.hrtime.bigint();
      await post('/builds', JSON.stringify({ platform_id: 'bench', image_type_id: 'bench' }));
      while ((await total()) === before) await new Promise((r) => setTimeout(r, 5));
      lags.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    lags.sort((a, b) => a - b);
    console.log(
      `\ndashboard freshness (local aggregator, 250 ms poll): a new build is counted after p50 ${pct(lags, 50).toFixed(0)} ms, max ${lags.at(-1)!.toFixed(0)} ms (20 creates)`,
    );
  } finally {
    await consumer.stop();
  }
}

try {
  const { rawTimes, coreTimes, apiTimes, keyTimes } = await latency();
  const f = (n: number) => n.toFixed(2).padStart(7);
  console.log(
    `POST /builds/{id}/states vs raw TransactWriteItems, ${SAMPLES} sequential samples each (after ${WARMUP} warm-up)`,
  );
  console.log('                         p50 ms   p99 ms');
  console.log(
    `raw, 2 items            ${f(pct(coreTimes, 50))}  ${f(pct(coreTimes, 99))}   (build + history)`,
  );
  console.log(
    `raw, same transaction   ${f(pct(rawTimes, 50))}  ${f(pct(rawTimes, 99))}   (the report's own: build + history, lease checked on the build)`,
  );
  console.log(
    `raw, API key GetItem    ${f(pct(keyTimes, 50))}  ${f(pct(keyTimes, 99))}   (the caller's key: paid only when it is not cached, once per BUILDSTATE_AUTH_CACHE_TTL_S)`,
  );
  console.log(`gateway + handlers      ${f(pct(apiTimes, 50))}  ${f(pct(apiTimes, 99))}`);
  console.log(
    `ratio to the same       ${f(pct(apiTimes, 50) / pct(rawTimes, 50))}  ${f(pct(apiTimes, 99) / pct(rawTimes, 99))}   (goal: p50 ratio <= 1.5)`,
  );
  console.log(
    `ratio to 2 items        ${f(pct(apiTimes, 50) / pct(coreTimes, 50))}  ${f(pct(apiTimes, 99) / pct(coreTimes, 99))}   (goal: p50 ratio <= 1.3)`,
  );
  console.log('\nthroughput, 5 s each (distinct builds per worker)');
  console.log('concurrency   reports/s   raw same tx/s   raw 2 items/s   reports ÷ 2 items');
  for (const c of [1, 8, 32]) {
    const api = await throughput(c, 5, reportWorker);
    const raw = await throughput(c, 5, () => rawWriter('full'));
    const core = await throughput(c, 5, () => rawWriter('core'));
    console.log(
      `${String(c).padStart(11)}   ${api.toFixed(0).padStart(9)}   ${raw.toFixed(0).padStart(13)}   ${core.toFixed(0).padStart(13)}   ${(api / core).toFixed(2).padStart(17)}`,
    );
  }
  await freshness();
} finally {
  db.destroy();
  agent.destroy();
  await stack.stop();
}

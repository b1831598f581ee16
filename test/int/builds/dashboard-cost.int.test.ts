/**
 * The dashboard's read cost does not grow with the number of builds: the same calls at 100 and
 * at 2,000 builds consume the same read capacity (ReturnConsumedCapacity, on the real engine).
 * As a control, reading the builds list to the end does grow with them (20 times the builds),
 * so the measurement can tell. (10,000 builds proved the same and took six minutes of the suite;
 * BUILDSTATE_COST_BUILDS sets the count for a longer run.)
 */
import { QueryCommand } from '../../../lib/db/commands';
import { INDEXES } from '../../../lib/db/table-definition';
import { services } from '../../../lib/runtime';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  // Thousands of builds in the shared engine would slow every test file that runs after this one.
  stack = await startTestStack({ ownEngine: true, events: { pollMs: 100 } });
}, 60_000);
afterAll(() => stack.stop());

const MANY = Number(process.env.BUILDSTATE_COST_BUILDS ?? 2_000);
const actor = { id: 'key:test', type: 'api_key' as const, name: 'test', scopes: ['write' as const] };

async function createBuilds(from: number, to: number) {
  const { builds } = services();
  let next = from;
  const worker = async () => {
    while (next < to) {
      const n = next++;
      await builds.create(
        {
          id: `cost-${n}`,
          project_id: 'default',
          platform_id: n % 2 ? 'aws' : 'azure',
          image_type_id: 'rhel9',
          metadata: {},
        },
        actor,
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Read capacity of every dashboard call, as the API reports it. */
async function dashboardCost() {
  const cost = async (path: string) => {
    const res = await stack.call('GET', path);
    expect(res.status).toBe(200);
    return res.body.read_capacity_units as number;
  };
  return {
    summary: await cost('/dashboard/summary'),
    durations: await cost('/dashboard/durations'),
    stuck: await cost('/dashboard/stuck'),
  };
}

/** The control: every build through the by-created index, with its consumed capacity. */
async function listAllCost(): Promise<number> {
  let units = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await services().db.send(
      new QueryCommand({
        TableName: stack.tableName,
        IndexName: INDEXES.byCreated.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': INDEXES.byCreated.partitionKey },
        ExpressionAttributeValues: { ':p': 'BUILDS' },
        ExclusiveStartKey: start,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    units += res.ConsumedCapacity?.CapacityUnits ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return units;
}

it(`costs the same read capacity at 100 and at ${MANY.toLocaleString('en')} builds`, async () => {
  await createBuilds(0, 100);
  // Ten of them running, some with history, so every part of the summary has data.
  for (let n = 0; n < 10; n++) {
    const id = `cost-${n}`;
    await stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'in_progress' });
    await stack.call('POST', `/builds/${id}/states`, { state_code: 5, status: 'completed' });
    await stack.call('POST', `/builds/${id}/states`, {
      state_code: 10,
      status: n % 3 ? 'in_progress' : 'failed',
    });
  }
  await stack.events!.drain();
  const at100 = await dashboardCost();
  const list100 = await listAllCost();
  const summary100 = (await stack.call('GET', '/dashboard/summary')).body;
  expect(summary100.builds.total).toBe(100);

  await createBuilds(100, MANY);
  await stack.events!.drain();
  const atMany = await dashboardCost();
  const listMany = await listAllCost();
  const summaryMany = (await stack.call('GET', '/dashboard/summary')).body;
  expect(summaryMany.builds.total).toBe(MANY);
  expect(summaryMany.builds.by_status.pending).toBe(MANY - 10);

  console.log(
    `read capacity units at 100 → ${MANY} builds: dashboard ${JSON.stringify(at100)} → ${JSON.stringify(atMany)}; ` +
      `control (list every build) ${list100} → ${listMany}`,
  );
  expect(atMany).toEqual(at100);
  expect(at100.summary).toBeGreaterThan(0);
  // The control grows with the builds: the measurement would show a cost that did.
  expect(listMany).toBeGreaterThan(list100 * (MANY / 100) * 0.5);
}, 600_000);

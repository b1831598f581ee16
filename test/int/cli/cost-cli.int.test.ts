/** Cost per phase through bldst (#29): platform prices, a worker's own rate, build get and dashboard costs. */
import { buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { startTestStack, type TestStack } from '../../helpers/stack';

let stack: TestStack;
const { run: bldst } = cliRunner(() => stack.url);
const json = (r: CliResult) => JSON.parse(r.stdout);

beforeAll(async () => {
  buildCli();
  stack = await startTestStack({ events: { pollMs: 50 } });
}, 60_000);
afterAll(() => stack.stop());

it('prices a platform, shows a build cost and sums it by group; refuses bad prices and groups', async () => {
  const bad = await bldst([
    'platform',
    'create',
    '--id',
    'bad-price',
    '--name',
    'x',
    '--cloud-provider',
    'aws',
    '--hourly-cost=-1',
  ]);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain('hourly_cost');
  const cur = await bldst([
    'platform',
    'create',
    '--id',
    'bad-price',
    '--name',
    'x',
    '--cloud-provider',
    'aws',
    '--currency',
    'DOLLARS',
  ]);
  expect([cur.code !== 0, cur.stderr.includes('ISO 4217')]).toEqual([true, true]);
  expect((await bldst(['platform', 'get', 'bad-price'])).code).not.toBe(0);

  const made = await bldst([
    'platform',
    'create',
    '--id',
    'eu-1',
    '--name',
    'EU',
    '--cloud-provider',
    'azure',
    '--hourly-cost',
    '3600',
    '--currency',
    'EUR',
    '-o',
    'json',
  ]);
  expect(json(made)).toMatchObject({ hourly_cost: '3600.000000', currency: 'EUR' });
  expect((await bldst(['platform', 'list', '-o', 'table'])).stdout).toMatch(/3600\.000000 EUR/);

  const id = (
    await bldst(['build', 'create', '--platform-id', 'eu-1', '--image-type-id', 'rhel9', '-q'])
  ).stdout.trim();
  await bldst(['build', 'add-state', id, '--state', '10', '--status', 'in_progress']);
  await new Promise((r) => setTimeout(r, 300));
  await bldst(['build', 'add-state', id, '--state', '10', '--status', 'completed']);
  // The worker's own rate (1 EUR an hour: a fraction of a cent for this attempt) wins over the platform's.
  await bldst(['build', 'add-state', id, '--state', '20', '--status', 'in_progress', '--hourly-cost', '1']);
  await bldst(['build', 'add-state', id, '--state', '20', '--status', 'failed', '--error', 'no']);

  const got = json(await bldst(['build', 'get', id, '-o', 'json']));
  // 3600 EUR an hour is 1 EUR a second: state 10 cost as many EUR as it ran seconds (≥ 0.3).
  expect(got.cost.currency).toBe('EUR');
  expect(Number(got.cost.by_state['10'])).toBeGreaterThanOrEqual(0.3);
  expect(Number(got.cost.by_state['20'])).toBeLessThan(0.01);
  expect(got.cost.failed).toBe(got.cost.by_state['20']);
  expect(got.cost.total).toMatch(/^\d+\.\d{6}$/);
  const text = (await bldst(['build', 'get', id, '-o', 'table'])).stdout;
  expect(text).toMatch(
    new RegExp(
      `cost +EUR ${got.cost.total.replace('.', '\\.')} \\(failed ${got.cost.failed.replace('.', '\\.')}, saved by resuming 0\\.000000; by state 10: `,
    ),
  );
  const history = json(await bldst(['build', 'history', id, '-o', 'json']));
  expect(
    history
      .filter((h: { cost?: { rate_source: string } }) => h.cost)
      .map((h: { cost: { rate_source: string } }) => h.cost.rate_source),
  ).toEqual(['platform', 'worker']);

  await stack.events!.drain();
  const costs = json(await bldst(['dashboard', 'costs', '--group-by', 'platform', '-o', 'json']));
  expect(costs.items).toEqual([
    { key: 'eu-1', currency: 'EUR', total: got.cost.total, failed: got.cost.failed, avoided: '0.000000' },
  ]);
  const table = (await bldst(['dashboard', 'costs', '--group-by', 'state', '-o', 'table'])).stdout;
  expect(table).toMatch(/STATE +CUR +TOTAL +FAILED +SAVED BY RESUMING/);
  expect(table).toContain(`20     EUR`);
  const wrong = await bldst(['dashboard', 'costs', '--group-by', 'owner']);
  expect([wrong.code !== 0, wrong.stderr.includes('group_by')]).toEqual([true, true]);
  expect((await bldst(['dashboard', 'costs', '--help'])).stdout).toContain('--group-by');
});

/**
 * The web dashboard's costs (#29) in headless Chromium: the 30-day cost and "saved by resuming"
 * cards, one per currency, and each state's cost beside its timeline lane. Screenshot kept in
 * test-artifacts/web-dashboard-costs.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { HAVE_CHROMIUM, launchChromium } from '../../helpers/chromium';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const ARTIFACTS = join(__dirname, '../../../test-artifacts');
const maybe = HAVE_CHROMIUM ? describe : describe.skip;

maybe('web dashboard costs (headless Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startTestStack({ events: { pollMs: 100 } });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows what was spent and saved per currency, and each state cost in the timeline', async () => {
    const problems: string[] = [];
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(`${stack.url}/`);
    await page.fill('#key', ADMIN_KEY);
    await page.click('#save');
    // Nothing priced yet: said so, not a zero that looks like a price.
    await page.waitForSelector('#cost-none');

    // 3600 an hour is one a second: amounts are easy to check against the API's.
    await stack.call('POST', '/platforms', {
      id: 'web-usd',
      name: 'usd',
      cloud_provider: 'aws',
      hourly_cost: 3600,
    });
    await stack.call('POST', '/platforms', {
      id: 'web-eur',
      name: 'eur',
      cloud_provider: 'azure',
      hourly_cost: 3600,
      currency: 'EUR',
    });
    const run = async (id: string, code: number, end: 'completed' | 'failed') => {
      await stack.call('POST', `/builds/${id}/states`, { state_code: code, status: 'in_progress' });
      // Over a second: work avoided by a resume is counted in whole seconds (a shorter state
      // would avoid 0 s, and the saving card would have nothing to show).
      await new Promise((r) => setTimeout(r, 1100));
      await stack.call('POST', `/builds/${id}/states`, { state_code: code, status: end, error: 'x' });
    };
    await stack.call('POST', '/builds', { id: 'web-cost-1', platform_id: 'web-usd', image_type_id: 'rhel9' });
    await stack.call('POST', '/builds', { id: 'web-cost-2', platform_id: 'web-eur', image_type_id: 'rhel9' });
    await run('web-cost-1', 10, 'completed');
    await run('web-cost-1', 20, 'failed');
    await run('web-cost-1', 20, 'completed'); // resumes: 10's work is not re-run
    await run('web-cost-2', 10, 'completed');
    const build = (await stack.call('GET', '/builds/web-cost-1')).body;
    expect(Number(build.cost.avoided)).toBeGreaterThan(0);

    const usd = page.locator('#cost-USD');
    await page.waitForSelector(`#cost-USD[data-amount="${build.cost.total}"]`, { timeout: 20_000 });
    expect(await usd.textContent()).toBe(`USD ${Number(build.cost.total).toFixed(2)}spent, 30 days`);
    expect(await page.locator('#saved-USD').getAttribute('data-amount')).toBe(build.cost.avoided);
    expect(await page.locator('#saved-USD').textContent()).toContain('saved by resuming');
    // EUR has cards of its own: never added to USD.
    const eur = (await stack.call('GET', '/builds/web-cost-2')).body.cost.total;
    expect(await page.locator('#cost-EUR').getAttribute('data-amount')).toBe(eur);

    await page.locator('tr[data-build-id="web-cost-1"]').click();
    await page.waitForSelector('#timeline .row[data-state="20"] .state-cost');
    expect(await page.locator('#timeline .row[data-state="10"] .state-cost').getAttribute('data-cost')).toBe(
      build.cost.by_state['10'],
    );
    expect(await page.locator('#timeline .row[data-state="20"] .state-cost').getAttribute('data-cost')).toBe(
      build.cost.by_state['20'],
    );
    expect(await page.locator('#tl-cost').textContent()).toBe(
      `cost USD ${build.cost.total} (failed ${build.cost.failed}, saved by resuming ${build.cost.avoided})`,
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-dashboard-costs.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);
});

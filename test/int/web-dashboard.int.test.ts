/**
 * The web dashboard in headless Chromium against the local gateway: load it with a key, watch a
 * build progress, see a failure appear (row, timeline, attention list, live events). A screenshot
 * is kept in test-artifacts/web-dashboard.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { HAVE_CHROMIUM, launchChromium } from '../helpers/chromium';
import { ADMIN_KEY, startTestStack, type TestStack } from '../helpers/stack';

const ARTIFACTS = join(__dirname, '../../test-artifacts');
const maybe = HAVE_CHROMIUM ? describe : describe.skip;

maybe('web dashboard (headless Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    stack = await startTestStack({ events: { pollMs: 100 } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const report = (id: string, body: Record<string, unknown>) =>
    stack.call('POST', `/builds/${id}/states`, body);

  it('asks for a key, then shows builds progressing and failing, live', async () => {
    const id = (
      await stack.call('POST', '/builds', {
        id: 'web-rhel9-aws-1',
        platform_id: 'aws',
        image_type_id: 'rhel9',
      })
    ).body.id;
    const res = await page.goto(`${stack.url}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForSelector('#live:has-text("paste an API key")');

    await page.fill('#key', ADMIN_KEY);
    await page.click('#save');
    const row = page.locator(`tr[data-build-id="${id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('pending');

    // Progress: 0 → 25 % as states complete, without a reload.
    await report(id, { state_code: 5, status: 'in_progress' });
    await report(id, { state_code: 5, status: 'completed' });
    await report(id, { state_code: 25, status: 'completed' });
    await page.waitForSelector(`tr[data-build-id="${id}"] .bar[data-progress="25"]`);
    expect(await row.getAttribute('data-status')).toBe('in_progress');

    // A failure appears: row status, timeline segment marked failed, live event.
    await row.click();
    await report(id, { state_code: 30, status: 'in_progress' });
    await report(id, { state_code: 30, status: 'failed', error: 'cloudwatch agent: 403' });
    await page.waitForSelector(`tr[data-build-id="${id}"][data-status="failed"]`);
    await page.waitForSelector('#timeline .seg[data-attempt="30#1"][data-status="failed"]');
    await page.waitForSelector('#events li[data-detail-type="Build State Changed"]');
    expect(await page.locator('#timeline .row').count()).toBe(3); // states 5, 25 and 30

    // Blocked after the last attempt: highlighted and listed under "Needs attention".
    for (let attempt = 2; attempt <= 3; attempt++)
      await report(id, { state_code: 30, status: 'failed', error: 'cloudwatch agent: 403' });
    await page.waitForSelector(`#attention li[data-blocked="${id}"]`);
    expect(await row.getAttribute('class')).toContain('attention');

    // Filters: a status filter that excludes it hides it, clearing it brings it back.
    await page.selectOption('#f-status', 'completed');
    await page.waitForSelector(`tr[data-build-id="${id}"]`, { state: 'detached' });
    await page.selectOption('#f-status', '');
    await row.waitFor();

    // Text from the API is shown as text, never as HTML.
    await stack.call('POST', '/builds', {
      id: 'web-xss',
      platform_id: 'aws',
      image_type_id: 'rhel9',
      description: 'x',
    });
    await report('web-xss', { state_code: 5, status: 'in_progress' });
    await report('web-xss', {
      state_code: 5,
      status: 'failed',
      error: '<img src=x onerror="window.pwned=1">',
    });
    await page.locator('tr[data-build-id="web-xss"]').click();
    await page.waitForSelector('#timeline .seg[data-status="failed"]');
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('tr[data-build-id="web-rhel9-aws-1"]').click();
    await page.waitForSelector('#tl-title:has-text("web-rhel9-aws-1")');
    await page.screenshot({ path: join(ARTIFACTS, 'web-dashboard.png'), fullPage: true });
  }, 60_000);
});

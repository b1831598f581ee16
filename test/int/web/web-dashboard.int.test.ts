/**
 * The web dashboard in headless Chromium against the local gateway: load it with a key, watch a
 * build progress, see a failure appear (row, timeline, attention list, live events); a fork's
 * family grouped under its parent with the roll-up, a failed child marked, the work avoided.
 * Screenshots are kept in test-artifacts/web-dashboard*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { BuildRepository } from '../../../lib/builds/build.repository';
import { BuildService } from '../../../lib/builds/build.service';
import { type Milestone, StateCatalog } from '../../../lib/catalog/state-catalog';
import { IdempotencyRepository } from '../../../lib/idempotency/idempotency.repository';
import { services } from '../../../lib/runtime';
import { HAVE_CHROMIUM, launchChromium } from '../../helpers/chromium';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const ARTIFACTS = join(__dirname, '../../../test-artifacts');
const maybe = HAVE_CHROMIUM ? describe : describe.skip;

maybe('web dashboard (headless Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  beforeAll(async () => {
    stack = await startTestStack({ events: { pollMs: 100 } });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Anything the page fails to load (a missing favicon included) or logs as an error.
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => problems.push(`failed ${r.url()}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
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
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    // The script and style sheet are files from the same origin: no inline script is allowed.
    const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src'));
    expect(scriptSrc?.trim()).toBe("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.waitForSelector('#live:has-text("paste an API key")');
    // Without a key nothing is known: never "nothing stuck or blocked".
    await page.waitForSelector('#attention li[data-unknown]:has-text("no API key")');
    // Its own icon, inline: the browser asks for no /favicon.ico (which would be a 404).
    const icon = await page.evaluate(() => {
      const { document } = globalThis as unknown as {
        document: { querySelector(s: string): { getAttribute(a: string): string | null } | null };
      };
      return document.querySelector('link[rel="icon"]')?.getAttribute('href');
    });
    expect(icon).toMatch(/^data:image\/svg\+xml,/);

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
    expect(await page.locator('#timeline .row[data-state]').count()).toBe(3); // states 5, 25 and 30

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
    // Nothing failed to load and nothing was logged as an error along the way.
    expect(problems).toEqual([]);
  }, 60_000);

  it('groups a fork under its parent: a bar per child, the failed one marked, the roll-up, the work avoided', async () => {
    // The parent's measured work (2 h + 5 h 20 min + 7 h) comes from a clock of its own, two days
    // back; each of the three children does not redo it: 3 × 14 h 20 min = 43 h avoided this week.
    let now = Date.now() - 2 * 86_400_000;
    const actor = { id: 'key:web', type: 'api_key' as const, name: 'web', scopes: ['write' as const] };
    const milestones: Milestone[] = [0, 5, 25, 50, 100].map((code) => ({
      code,
      name: `s${code}`,
      description: '',
      category: 'general',
    }));
    const catalog = new StateCatalog(milestones);
    const builds = new BuildService({
      builds: new BuildRepository(services().db, stack.tableName),
      idempotency: new IdempotencyRepository(services().db, stack.tableName, 3600),
      catalogs: { forProject: async () => catalog },
      defaultMaxAttempts: 3,
      clock: () => new Date(now),
    });
    const base = 'web-fam-base';
    await builds.create(
      { id: base, project_id: 'default', platform_id: 'aws', image_type_id: 'rhel9', metadata: {} },
      actor,
    );
    for (const [code, seconds] of [
      [5, 7_200],
      [25, 19_200],
      [50, 25_200],
    ] as const) {
      await builds.report(base, { state_code: code, status: 'in_progress' }, actor);
      now += seconds * 1000;
      await builds.report(base, { state_code: code, status: 'completed' }, actor);
    }
    const fork = await builds.fork(
      base,
      {
        at_state: 50,
        children: [
          { id: 'web-fam-aws', platform_id: 'aws', metadata: {} },
          { id: 'web-fam-azure', platform_id: 'azure', metadata: { cloud: 'azure', region: 'westeurope' } },
          { id: 'web-fam-gcp', platform_id: 'gcp', metadata: {} },
        ],
      },
      actor,
    );
    expect(fork.outcome).toBe('created');
    await report('web-fam-azure', { state_code: 75, status: 'completed' });
    await report('web-fam-aws', { state_code: 80, status: 'completed' });
    await report('web-fam-gcp', { state_code: 60, status: 'in_progress' });
    await report('web-fam-gcp', { state_code: 60, status: 'failed', error: 'quota exceeded' });
    await stack.events!.drain();

    // The roll-up on the parent's row, its children right under it, in id order.
    const rollup = page.locator(`[data-rollup="${base}"]`);
    await page.waitForSelector(`[data-rollup="${base}"]:has-text("1 failed")`);
    expect(await rollup.textContent()).toBe('children: 0/3 completed · 50–80% · 1 failed');
    const order = await page.$$eval('#builds tr[data-build-id]', (rows) =>
      rows.map((r) => r.getAttribute('data-build-id')),
    );
    const at = order.indexOf(base);
    expect(order.slice(at, at + 4)).toEqual([base, 'web-fam-aws', 'web-fam-azure', 'web-fam-gcp']);
    await page.waitForSelector('tr[data-build-id="web-fam-azure"].child .bar[data-progress="75"]');
    await page.waitForSelector('tr[data-build-id="web-fam-aws"].child .bar[data-progress="80"]');

    // A child is labelled by its target: what the fork gave it (metadata cloud/region).
    expect(await page.locator('[data-target="web-fam-azure"]').textContent()).toBe('azure/westeurope');

    // The failed child stands out, in words as well as colour.
    const gcp = page.locator('tr[data-build-id="web-fam-gcp"]');
    expect(await gcp.getAttribute('class')).toContain('child-failed');
    expect(await gcp.textContent()).toContain('✕ web-fam-gcp');
    expect(await gcp.textContent()).toContain('child failed at 60');
    expect(await page.locator('tr[data-build-id="web-fam-aws"]').getAttribute('class')).not.toContain(
      'child-failed',
    );

    // The work avoided, and the parent counted apart from the running builds.
    await page.waitForSelector('#work-avoided[data-seconds="154800"]');
    expect(await page.locator('#work-avoided').textContent()).toBe('43 hnot re-run this week');
    // The summary's counts come from the stream's aggregator: they may land a poll after the rest.
    await page.locator('[data-count="fanned_out"] b', { hasText: /^1$/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-count="fanned_out"] b').textContent()).toBe('1');

    // Filtered to aws, the parent shows one child of three; "show all" pages in the others.
    await page.selectOption('#f-platform', 'aws');
    const more = page.locator(`button[data-more-children="${base}"]`);
    await more.waitFor();
    expect(await more.textContent()).toBe('show all 3 children (1 shown)');
    await page.waitForSelector('tr[data-build-id="web-fam-azure"]', { state: 'detached' });
    await more.click();
    await page.waitForSelector('tr[data-build-id="web-fam-gcp"].child-failed');
    await page.waitForSelector('tr[data-build-id="web-fam-azure"].child');
    await page.waitForSelector(`button[data-more-children="${base}"]`, { state: 'detached' });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.selectOption('#f-platform', '');
    await page.screenshot({ path: join(ARTIFACTS, 'web-dashboard-family.png'), fullPage: true });
  }, 60_000);

  it('fits 800, 1024 and 1440 px without sideways scroll; a deep link opens a build', async () => {
    const scroll = () =>
      page.evaluate(() => {
        const g = globalThis as unknown as {
          innerWidth: number;
          document: { documentElement: { scrollWidth: number } };
        };
        return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth };
      });
    await page.goto(`${stack.url}/#build=web-fam-gcp`);
    await page.waitForSelector('body[data-loaded="true"]');
    // The deep link highlights the row and shows its timeline.
    await page.waitForSelector('tr[data-build-id="web-fam-gcp"].selected');
    await page.waitForSelector('#tl-title:has-text("web-fam-gcp")');
    await page.waitForSelector('#timeline .seg[data-status="failed"]');
    expect(await page.locator('tr.build.selected').count()).toBe(1);
    // The timeline is right below the selected row, with a time axis in UTC.
    expect(
      await page.$eval('tr.build.selected', (r) => r.nextElementSibling?.querySelector('#timeline') !== null),
    ).toBe(true);
    expect(await page.locator('#timeline .tick').count()).toBe(3);
    expect(await page.locator('#timeline .tick').first().textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
    // Clicking another row moves the highlight and the address.
    await page.locator('tr[data-build-id="web-rhel9-aws-1"]').click();
    await page.waitForSelector('#tl-title:has-text("web-rhel9-aws-1")');
    expect(new URL(page.url()).hash).toBe('#build=web-rhel9-aws-1');
    expect(await page.locator('tr.build.selected').getAttribute('data-build-id')).toBe('web-rhel9-aws-1');
    for (const width of [800, 1024, 1440]) {
      await page.setViewportSize({ width, height: 900 });
      const { scrollWidth, innerWidth } = await scroll();
      expect({ width, scrollWidth }).toEqual({ width, scrollWidth: Math.min(scrollWidth, innerWidth) });
      await page.screenshot({ path: join(ARTIFACTS, `web-dashboard-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1400, height: 900 });
  }, 60_000);

  it('says so when the key is wrong, instead of "nothing stuck or blocked"', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    try {
      await context.addInitScript(() => {
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem('buildstate.key', 'bst_not-a-real-key');
      });
      const wrong = await context.newPage();
      await wrong.goto(`${stack.url}/`);
      await wrong.waitForSelector('#attention li[data-unknown]:has-text("refused")');
      expect(await wrong.locator('#error').textContent()).toContain('the key was refused');
      expect(await wrong.locator('#attention').textContent()).not.toContain('nothing stuck or blocked');
      expect(await wrong.locator('#live').textContent()).toBe('error');
    } finally {
      await context.close();
    }
  }, 60_000);
});

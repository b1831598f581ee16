/**
 * The dashboard's channels panel and its revoked marks, in headless Chromium against the local
 * gateway: a channel with its images and history; after a revocation the channel shows the build
 * revoked with the reason (a state of the channel, not an error banner), and every place the
 * build appears carries the badge; a restore clears them. Screenshots in test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { HAVE_CHROMIUM, launchChromium } from '../../helpers/chromium';
import { ADMIN_KEY, startTestStack, type TestStack } from '../../helpers/stack';

const ARTIFACTS = join(__dirname, '../../../test-artifacts');
const maybe = HAVE_CHROMIUM ? describe : describe.skip;
const CVE = 'CVE-2026-1234 in openssl';

maybe('web dashboard: channels and revoked builds (headless Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  beforeAll(async () => {
    stack = await startTestStack({ events: { pollMs: 100 } });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript((key) => {
      (
        globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
      ).localStorage.setItem('buildstate.key', key);
    }, ADMIN_KEY);
    page = await context.newPage();
    // A channel on a revoked build answers 409 `revoked` by design (the panel shows it as the
    // channel's state); any other failed load or console error is a problem.
    const expected409 = (url: string) => /\/channels\/[^/?]+$/.test(new URL(url).pathname);
    page.on('response', (r) => {
      if (r.status() >= 400 && !(r.status() === 409 && expected409(r.url())))
        problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => problems.push(`failed ${r.url()}`));
    page.on('console', (m) => {
      const url = m.location().url;
      if (m.type() === 'error' && !(m.text().includes('409') && url && expected409(url)))
        problems.push(`console: ${m.text()} ${url}`);
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function completed(id: string, extra: Record<string, unknown> = {}): Promise<void> {
    const created = await stack.call('POST', '/builds', {
      id,
      platform_id: 'aws',
      image_type_id: 'rhel9',
      ...extra,
    });
    expect(created.status).toBe(201);
    const done = await stack.call('POST', `/builds/${id}/states`, { state_code: 100, status: 'completed' });
    expect(done.status).toBe(201);
  }
  const image = (id: string, cloud: string, region: string, image_id: string) =>
    stack.call('POST', `/builds/${id}/images`, { cloud, region, image_id });
  const setChannel = (name: string, build_id: string, reason: string) =>
    stack.call('PUT', `/channels/${name}`, { build_id, reason });

  it('shows each channel with its build, images and history; a revoked build marked everywhere', async () => {
    // rhel9-base-prod: ch-base-old, then ch-base (two images); web-prod: ch-web, built on ch-base.
    await completed('ch-base-old');
    await completed('ch-base');
    expect((await image('ch-base', 'aws', 'us-east-1', 'ami-0a1b2c3d4e5f60107')).status).toBe(201);
    expect((await image('ch-base', 'aws', 'eu-west-1', 'ami-0f9e8d7c6b5a40107')).status).toBe(201);
    await completed('ch-web', { base_build_id: 'ch-base' });
    expect((await image('ch-web', 'aws', 'us-east-1', 'ami-0web0000000000001')).status).toBe(201);
    // A fan-out family on ch-base: its children are listed under their parent.
    expect(
      (
        await stack.call('POST', '/builds', {
          id: 'ch-fam',
          platform_id: 'aws',
          image_type_id: 'rhel9',
          base_build_id: 'ch-base',
        })
      ).status,
    ).toBe(201);
    expect(
      (await stack.call('POST', '/builds/ch-fam/states', { state_code: 50, status: 'completed' })).status,
    ).toBe(201);
    const fork = await stack.call('POST', '/builds/ch-fam/fork', {
      at_state: 50,
      children: [
        { id: 'ch-fam-aws', platform_id: 'aws' },
        { id: 'ch-fam-azure', platform_id: 'azure' },
      ],
    });
    expect(fork.status).toBe(201);
    expect((await setChannel('rhel9-base-prod', 'ch-base-old', 'first cut')).status).toBe(200);
    expect((await setChannel('rhel9-base-prod', 'ch-base', 'passed CIS scan')).status).toBe(200);
    // A reason is shown as text, never as HTML.
    expect((await setChannel('web-prod', 'ch-web', '<img src=x onerror="window.pwned=1">')).status).toBe(200);

    await page.goto(`${stack.url}/`);
    const base = page.locator('tr.channel[data-channel="rhel9-base-prod"]');
    await page.waitForSelector('tr.channel[data-channel="rhel9-base-prod"][data-state="ok"]');
    expect(await base.locator('a[data-channel-build]').textContent()).toBe('ch-base');
    expect(await base.locator('td').nth(0).textContent()).toBe('rhel9-base-prod v2');
    expect(await base.locator('td').nth(2).textContent()).toContain('passed CIS scan');
    expect(await base.locator('[data-image]').allTextContents()).toEqual(
      expect.arrayContaining(['aws us-east-1 ami-0a1b2c3d4e5f60107', 'aws eu-west-1 ami-0f9e8d7c6b5a40107']),
    );
    expect(await base.locator('[data-image]').count()).toBe(2);
    const web = page.locator('tr.channel[data-channel="web-prod"]');
    expect(await web.locator('td').nth(2).textContent()).toContain('<img src=x onerror="window.pwned=1">');
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();

    // History on demand: every assignment, oldest first, each naming the build it replaced.
    expect(await page.locator('ol[data-history]').count()).toBe(0);
    await page.click('button[data-channel-history="rhel9-base-prod"]');
    const history = page.locator('ol[data-history="rhel9-base-prod"] > li[data-version]');
    await history.nth(1).waitFor();
    expect(await history.count()).toBe(2);
    expect(await history.nth(0).textContent()).toMatch(/^v1 .* UTC by .*: ch-base-old – first cut$/);
    expect(await history.nth(1).textContent()).toMatch(
      /^v2 .*: ch-base \(was ch-base-old\) – passed CIS scan$/,
    );

    // The channel's build links to its row and timeline.
    await base.locator('a[data-channel-build]').click();
    await page.waitForSelector('tr.build[data-build-id="ch-base"].selected');
    await page.waitForSelector('#tl-title:has-text("ch-base")');
    expect(new URL(page.url()).hash).toBe('#build=ch-base');
    expect(await page.locator('.revoked-badge').count()).toBe(0);

    // Revoked: ch-base and, through the cascade, ch-web.
    const revoke = await stack.call('POST', '/builds/ch-base/revoke', { reason: CVE });
    expect(revoke.status).toBe(200);
    await page.waitForSelector('tr.channel[data-channel="rhel9-base-prod"][data-state="revoked"]');
    await page.waitForSelector('tr.channel[data-channel="web-prod"][data-state="revoked"]');
    expect(await base.locator('[data-channel-revoked]').textContent()).toMatch(
      new RegExp(`^not served: build ch-base is revoked .* UTC by .*: ${CVE}$`),
    );
    // web-prod's build was marked by the cascade from its base: the same reason. A poll that
    // landed mid-cascade shows the ancestor's mark first ("build ch-base (an ancestor of ch-web)");
    // the next one shows ch-web's own.
    const ownMark = new RegExp(`^not served: build ch-web is revoked .*: ${CVE}$`);
    await web.locator('[data-channel-revoked]', { hasText: ownMark }).waitFor({ timeout: 15_000 });
    expect(await web.locator('[data-channel-revoked]').textContent()).toMatch(ownMark);
    expect(await base.locator('.revoked-badge').getAttribute('title')).toContain(CVE);
    expect(await base.locator('[data-image]').count()).toBe(0);
    // A state of the channel, not a failure of the page.
    expect(await page.locator('#error').textContent()).toBe('');
    expect(await page.locator('#live').textContent()).toMatch(/^live/);
    // The open history stays open across refreshes.
    expect(await history.count()).toBe(2);

    // The build rows: a badge in words with the reason for screen readers and on hover.
    for (const id of ['ch-base', 'ch-web', 'ch-fam', 'ch-fam-aws', 'ch-fam-azure']) {
      const row = page.locator(`tr.build[data-build-id="${id}"]`);
      await page.waitForSelector(`tr.build[data-build-id="${id}"].revoked`);
      const badge = row.locator(`.revoked-badge[data-revoked="${id}"]`);
      expect(await badge.textContent()).toBe(`revoked: ${CVE}`);
      expect(await badge.getAttribute('title')).toMatch(new RegExp(`^revoked .* UTC by .*: ${CVE}$`));
      expect(await badge.isVisible()).toBe(true);
    }
    expect(await page.locator('tr.build[data-build-id="ch-base-old"]').getAttribute('class')).not.toContain(
      'revoked',
    );
    // The family's children, still grouped under their parent, each marked.
    expect(await page.locator('tr.build.child.revoked[data-parent-id="ch-fam"]').count()).toBe(2);
    // The selected build's timeline says it too.
    await page.waitForSelector('#tl-title .revoked-badge[data-revoked="ch-base"]');
    expect(await page.locator('#timeline [data-timeline-revoked="ch-base"]').textContent()).toContain(CVE);
    // And the live events.
    await page.waitForSelector(
      '#events li[data-detail-type="Build Revoked"]:has-text("ch-web: revoked (via ch-base)")',
    );

    // Narrow windows: no sideways scroll.
    for (const width of [480, 800]) {
      await page.setViewportSize({ width, height: 900 });
      const { scrollWidth, innerWidth } = await page.evaluate(() => {
        const g = globalThis as unknown as {
          innerWidth: number;
          document: { documentElement: { scrollWidth: number } };
        };
        return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth };
      });
      expect({ width, scrollWidth }).toEqual({ width, scrollWidth: Math.min(scrollWidth, innerWidth) });
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-channels-800.png'), fullPage: true });
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, 'web-channels.png'), fullPage: true });

    // Restored: the channels serve their images again and the marks are gone.
    expect((await stack.call('POST', '/builds/ch-base/restore', { reason: 'false positive' })).status).toBe(
      200,
    );
    await page.waitForSelector('tr.channel[data-channel="web-prod"][data-state="ok"]');
    await page.waitForSelector('tr.channel[data-channel="rhel9-base-prod"][data-state="ok"]');
    await page.waitForSelector('tr.build.revoked', { state: 'detached' });
    // Every mark goes (the rows, the timeline, the feed): panels redraw each on its own poll, so wait
    // for the last badge to go rather than count them the moment the rows have.
    await page.waitForSelector('.revoked-badge', { state: 'detached', timeout: 15_000 });
    expect(await page.locator('.revoked-badge').count()).toBe(0);
    expect(await web.locator('[data-image]').textContent()).toBe('aws us-east-1 ami-0web0000000000001');
    expect(problems).toEqual([]);
  }, 60_000);
});

/**
 * GET /docs in headless Chromium: Swagger UI renders the service's own document, every request the
 * page makes stays on loopback (its files come from the function, not a CDN), and nothing breaks
 * the page's Content-Security-Policy (which allows no inline script).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { HAVE_CHROMIUM, launchChromium } from '../../helpers/chromium';
import { startTestStack, type TestStack } from '../../helpers/stack';

const ARTIFACTS = join(__dirname, '../../../test-artifacts');
const maybe = HAVE_CHROMIUM ? describe : describe.skip;

maybe('API reference at /docs (headless Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startTestStack();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('serves the document and the page without credentials, under a CSP with no inline script', async () => {
    const doc = await stack.call('GET', '/openapi.json', undefined, { 'x-api-key': '' });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const page = await stack.call('GET', '/docs', undefined, { 'x-api-key': '' });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).not.toMatch(/<script>|<script [^>]*>[^<]/);
    const missing = await stack.call('GET', '/docs/index.html');
    expect(missing.status).toBe(404);
  });

  it('renders every operation, with requests only to loopback and no CSP violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (req) => requested.push(req.url()));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const res = await page.goto(`${stack.url}/docs`);
    expect(res?.status()).toBe(200);

    const doc = (await stack.call('GET', '/openapi.json')).body as { paths: Record<string, object> };
    const operations = Object.values(doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBe(operations);
    expect(await page.locator('.info .title').innerText()).toContain('BuildState API');
    // One operation opened: its responses are rendered from the document.
    await page.locator('#operations-builds-createBuild .opblock-summary').click();
    await page.waitForSelector('#operations-builds-createBuild .responses-table');
    expect(await page.locator('#operations-builds-createBuild .response-col_status').allInnerTexts()).toEqual(
      expect.arrayContaining(['201', '409', '422']),
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'api-docs.png'), fullPage: false });
    const origin = new URL(stack.url).origin;
    const outside = requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'));
    expect(outside).toEqual([]);
    expect(requested).toEqual(
      expect.arrayContaining([`${origin}/docs/swagger-ui-bundle.js`, `${origin}/openapi.json`]),
    );
    expect(problems).toEqual([]);
    await context.close();
  }, 60_000);
});

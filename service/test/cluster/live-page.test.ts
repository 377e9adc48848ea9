import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
} from '../../../mock-exchange/src/mock-exchange';
import { spawnCluster, type TestCluster } from '../helpers/cluster';

// The live page in a real headless browser (Debian's chromium, driven by playwright-core) against the built
// service in its clustered form and the mock exchange.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  // Loud, so a CI without the browser is noticed: `apt-get install -y chromium`.
  console.warn(`[live-page] SKIPPED: no chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}
const maybe = haveChromium ? describe : describe.skip;

let mock: MockExchange;
let cluster: TestCluster;
let launching: Promise<Browser> | undefined;

// Every wait below is for an event with a deadline. The deadlines are generous, not tuned: the suite shares
// a 2-core box with other work, and a deadline only decides how long a real failure takes to be reported.
const DEADLINE_MS = 30_000;

/** A new tab in the shared browser, with the errors its console and scripts report collected. */
async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await (launching as Promise<Browser>).then((browser) => browser.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return { page, problems };
}

maybe('the live page at /', () => {
  beforeAll(async () => {
    mock = await startMockExchange();
    await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3500.00', false);
    // The browser starts while the cluster does: neither waits for the other.
    launching = chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      timeout: 60_000,
    });
    launching.catch(() => undefined);
    cluster = await spawnCluster({
      WORKERS: '1',
      REFRESH_INTERVAL_MS: '250',
      MOCK_EXCHANGE_URL: mock.url,
    });
    await launching;
  }, 120_000);

  afterAll(async () => {
    // Closed even when the cluster failed to start while the browser was launching.
    await (await launching?.catch(() => undefined))?.close();
    cluster?.kill();
    await mock?.close();
  });

  test(
    'When the page is opened, then it shows the price, status and sources; when the exchange moves, then the next price',
    async () => {
      const { page, problems } = await newPage();
      const response = await page.goto(`${cluster.url}/`, { timeout: DEADLINE_MS });
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

      const priceText = page.locator('#price');
      // Waited for in the browser by Playwright's injected script (its own world, so the page's CSP, which
      // rightly forbids the string evaluation waitForFunction would need, does not apply): no polling here.
      await priceText.filter({ hasText: /^\d+(\.\d+)?$/ }).waitFor({ timeout: DEADLINE_MS });
      const first = Number(await priceText.textContent());
      expect(first).toBeGreaterThan(3490);
      expect(first).toBeLessThan(3510);
      expect(await page.locator('#status').textContent()).toMatch(/^(ok|degraded)$/);
      expect(await page.locator('#sources tr').count()).toBe(6);
      expect(await page.locator('#age').textContent()).toMatch(/^\d+\.\d s$/);

      await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3700.00', false);
      // A price from 3691 on (the mock's quotes sit a few units around 3700), then checked as the number it is.
      await priceText
        .filter({ hasText: /^(369[1-9]|3[7-9]\d\d)(\.\d+)?$/ })
        .waitFor({ timeout: DEADLINE_MS });
      expect(Number(await priceText.textContent())).toBeGreaterThan(3690);
      // The sparkline has drawn several points, up to the new price.
      const points = await page.locator('#spark polyline').getAttribute('points');
      expect((points ?? '').split(' ').length).toBeGreaterThan(1);
      expect(problems).toEqual([]);
      await page.close();
    },
    3 * DEADLINE_MS,
  );

  test(
    'When the page is opened, then beside the sparkline it draws the last hour of 1-minute candles from the candles route',
    async () => {
      const { page, problems } = await newPage();
      const candlesAnswer = page.waitForResponse((r) => r.url().includes('/candles?interval=1m'), {
        timeout: DEADLINE_MS,
      });
      await page.goto(`${cluster.url}/`, { timeout: DEADLINE_MS });
      const answer = await candlesAnswer;
      expect(answer.status()).toBe(200);
      const { candles } = (await answer.json()) as { candles: { gap: boolean; close?: string }[] };
      // The route's default range: the last hour, one candle a minute (61 when the hour is not whole).
      expect(candles.length).toBeGreaterThanOrEqual(60);
      const priced = candles.filter((c) => !c.gap);
      expect(priced.length).toBeGreaterThan(0);

      // One body and one wick per candle with a price; the gaps (before the cluster started) left blank.
      await page.locator('#candles rect').first().waitFor({ state: 'attached', timeout: DEADLINE_MS });
      // At least the answer's candles (a refetch on a slow box may add the minute that began since).
      const bodies = await page.locator('#candles rect').count();
      expect(bodies).toBeGreaterThanOrEqual(priced.length);
      expect(await page.locator('#candles line').count()).toBe(bodies);
      const title = await page.locator('#candles g title').last().textContent();
      expect(title).toMatch(/^\d\d:\d\d o \d+(\.\d+)? h \d+(\.\d+)? l \d+(\.\d+)? c \d+(\.\d+)?$/);
      const close = Number(/ c (\S+)$/.exec(title ?? '')?.[1]);
      expect(close).toBeGreaterThan(3400);
      expect(close).toBeLessThan(3800);
      // Both charts share the row: the candles sit to the right of the sparkline.
      const [spark, chart] = await Promise.all([
        page.locator('#spark').boundingBox(),
        page.locator('#candles').boundingBox(),
      ]);
      expect(chart!.x).toBeGreaterThan(spark!.x + spark!.width - 1);
      expect(chart!.y).toBe(spark!.y);
      expect(problems).toEqual([]);
      await page.close();
    },
    2 * DEADLINE_MS,
  );
});

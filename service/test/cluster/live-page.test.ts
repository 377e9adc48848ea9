import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
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
      const page = await (launching as Promise<Browser>).then((browser) => browser.newPage());
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
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
});

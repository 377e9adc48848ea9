import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import {
  mockExchangeClient,
  startMockExchange,
  type MockExchange,
} from '../../../mock-exchange/src/mock-exchange';
import { eventually } from '../helpers/metrics';
import { freePort } from '../helpers/redis';
import { TEST_ENV } from '../helpers/service';

// The live page in a real headless browser (Debian's chromium, driven by playwright-core) against the built
// service in its clustered form and the mock exchange.
const MAIN = path.resolve(__dirname, '../../../dist/service/src/main.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  // Loud, so a CI without the browser is noticed: `apt-get install -y chromium`.
  console.warn(`[live-page] SKIPPED: no chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}
const maybe = haveChromium ? describe : describe.skip;

let mock: MockExchange;
let proc: ChildProcess;
let browser: Browser;
let base: string;
let output = '';

maybe('the live page at /', () => {
  beforeAll(async () => {
    mock = await startMockExchange();
    await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3500.00', false);
    const [port, metricsPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        ...TEST_ENV,
        WORKERS: '1',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        REFRESH_INTERVAL_MS: '250',
        MOCK_EXCHANGE_URL: mock.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(
      () =>
        fetch(`${base}/health/readiness`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200,
      { what: `service ready; output so far:\n${output}`, timeoutMs: 15_000 },
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20_000 });
  }, 45_000);

  afterAll(async () => {
    await browser?.close();
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    await mock?.close();
  });

  test('When the page is opened, then it shows the price, status and sources; when the exchange moves, then the next price', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const response = await page.goto(`${base}/`, { timeout: 10_000 });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    const priceText = page.locator('#price');
    // Polled from here: the page's CSP (rightly) forbids the string evaluation waitForFunction would need.
    const shown = () => priceText.textContent({ timeout: 2000 });
    await eventually(shown, (t) => /^\d+(\.\d+)?$/.test(t ?? ''), {
      what: 'a price on the page',
      timeoutMs: 10_000,
    });
    const first = Number(await priceText.textContent());
    expect(first).toBeGreaterThan(3490);
    expect(first).toBeLessThan(3510);
    expect(await page.locator('#status').textContent()).toMatch(/^(ok|degraded)$/);
    expect(await page.locator('#sources tr').count()).toBe(6);
    expect(await page.locator('#age').textContent()).toMatch(/^\d+\.\d s$/);

    await mockExchangeClient(mock.url).setPrice('ETH/USDT', '3700.00', false);
    await eventually(shown, (t) => Number(t) > 3690, {
      what: 'the moved price on the page',
      timeoutMs: 10_000,
    });
    // The sparkline has drawn several points, up to the new price.
    const points = await page.locator('#spark polyline').getAttribute('points');
    expect((points ?? '').split(' ').length).toBeGreaterThan(1);
    expect(problems).toEqual([]);
    await page.close();
  }, 40_000);
});

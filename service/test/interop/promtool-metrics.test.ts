import { spawnSync } from 'node:child_process';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startMockExchange, type MockExchange } from '../../../mock-exchange/src/mock-exchange';
import { startLiveService, type LiveService } from '../../../monitoring/test/live';
import { createMetrics } from '../../src/observability/metrics';

// `promtool check metrics` is how teams lint a scrape in CI (Prometheus's naming rules: `_total` only on
// counters, units, ...). It reads the classic text format on stdin; exit 3 means lint findings.
const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
if (promtool === '')
  console.warn('promtool is not installed: skipping promtool check metrics (apt-get install -y prometheus)');
const describeWithPromtool = promtool === '' ? describe.skip : describe;

function checkMetrics(scrape: string): { code: number | null; findings: string } {
  const result = spawnSync(promtool, ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
  return { code: result.status, findings: `${result.stdout}${result.stderr}`.trim() };
}

describeWithPromtool('promtool check metrics', () => {
  test("When promtool reads prom-client's own default metrics, then it finds the non-counters named _total (the check can fail)", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const { code, findings } = checkMetrics(await registry.metrics());
    expect(code).toBe(3);
    expect(findings).toContain(
      'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
    );
  });

  test("When promtool reads the service's metrics registry with the default metrics, then it finds nothing", async () => {
    const { registry } = createMetrics({ registry: new Registry() });
    expect(checkMetrics(await registry.metrics())).toEqual({ code: 0, findings: '' });
  });

  describe('the live scrape of the clustered service', () => {
    let mock: MockExchange;
    let service: LiveService;
    beforeAll(async () => {
      mock = await startMockExchange();
      service = await startLiveService({ MOCK_EXCHANGE_URL: mock.url });
    }, 60_000);
    afterAll(async () => {
      await service?.stop();
      await mock?.close();
    });

    test('When the service has answered prices, errors and 405s, then promtool finds nothing in its /metrics', async () => {
      // Labelled series appear with traffic: a price, an unknown pair, an unknown route, a wrong method.
      for (const [path, method] of [
        ['/api/v1/prices/eth-usdt', 'GET'],
        ['/api/v1/prices/doge-usdt', 'GET'],
        ['/nope', 'GET'],
        ['/api/', 'DELETE'],
      ] as const) {
        await service.request(path, method);
      }
      const scrape = await service.metricsText();
      expect(scrape).toContain('nodejs_active_handles{');
      expect(checkMetrics(scrape)).toEqual({ code: 0, findings: '' });
    });
  });
});

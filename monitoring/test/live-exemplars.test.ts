/**
 * Latency exemplars end to end: the real clustered service (two workers, every request traced) scraped
 * every second by a real Prometheus with exemplar storage on, as in the Compose stack. Prometheus asks for
 * OpenMetrics, the only format with exemplars; the cluster primary merges its workers' exemplars back after
 * aggregating them; Prometheus must then return trace ids for the price route's latency buckets, which is
 * what Grafana's `exemplarTraceIdDestinations` (label `trace_id`) turns into a link to the trace.
 */
import { startMockExchange, type MockExchange } from '../../mock-exchange/src/mock-exchange';
import { eventually } from '../../service/test/helpers/metrics';
import { PRICE_ROUTE, PROMETHEUS_SYNTHETIC_METRICS, SERVICE_JOB } from './known-metrics';
import {
  parseExposition,
  startLiveService,
  startPrometheus,
  type LivePrometheus,
  type LiveService,
} from './live';

interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

let mock: MockExchange;
let service: LiveService;
let prometheus: LivePrometheus;
let startedAt: number;

const context = () =>
  `\nprometheus output:\n${prometheus.output().slice(-3000)}\nservice output:\n${service.output().slice(-3000)}`;

beforeAll(async () => {
  startedAt = Date.now() / 1000;
  mock = await startMockExchange();
  service = await startLiveService({ MOCK_EXCHANGE_URL: mock.url, TRACE_REQUESTS_PER_SECOND: '100000' });
  prometheus = await startPrometheus(`127.0.0.1:${service.metricsPort}`, { features: ['exemplar-storage'] });
}, 180_000);

afterAll(async () => {
  await Promise.all([prometheus?.stop(), service?.stop()]);
  await mock?.close();
});

describe('latency exemplars, from the clustered service to Prometheus', () => {
  it('When traced price requests are served, then Prometheus returns their trace ids as exemplars of the price route latency buckets', async () => {
    // A new connection per request, so both workers serve some.
    for (let i = 0; i < 20; i++) {
      expect((await service.request('/api/v1/prices/eth-usdt')).status).toBe(200);
    }
    const priceSeries = (series: ExemplarSeries[]) =>
      series.filter((s) => s.seriesLabels.route === PRICE_ROUTE && s.exemplars.length > 0);
    const series = await eventually(
      () =>
        prometheus.api<ExemplarSeries[]>(
          `/api/v1/query_exemplars?query=${encodeURIComponent('http_request_duration_seconds_bucket')}` +
            `&start=${startedAt - 60}&end=${Date.now() / 1000 + 60}`,
        ),
      (s) => priceSeries(s).length > 0,
      { timeoutMs: 15_000, intervalMs: 250, what: `exemplars on the price route${context()}` },
    );

    const found = priceSeries(series);
    for (const s of found) {
      expect(s.seriesLabels).toMatchObject({
        __name__: 'http_request_duration_seconds_bucket',
        job: SERVICE_JOB,
        route: PRICE_ROUTE,
        method: 'GET',
        status_code: '200',
      });
      for (const exemplar of s.exemplars) {
        expect(Object.keys(exemplar.labels)).toEqual(['trace_id']);
        expect(exemplar.labels.trace_id).toMatch(TRACE_ID);
        expect(exemplar.labels.trace_id).not.toBe('0'.repeat(32));
        // An exemplar belongs to the bucket its value falls in.
        const value = Number(exemplar.value);
        expect(value).toBeGreaterThan(0);
        if (s.seriesLabels.le !== '+Inf') expect(value).toBeLessThanOrEqual(Number(s.seriesLabels.le));
        expect(exemplar.timestamp).toBeGreaterThanOrEqual(startedAt - 1);
      }
    }
    process.stdout.write(
      `[live-exemplars] ${found.reduce((n, s) => n + s.exemplars.length, 0)} exemplars on ${found.length} price-route buckets\n`,
    );
  });

  it('When the primary is scraped as Prometheus does, then it answers OpenMetrics with the exemplars its workers recorded', async () => {
    const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`, {
      headers: { Accept: PROMETHEUS_ACCEPT },
    });
    expect(response.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const body = await response.text();
    expect(body.endsWith('\n# EOF\n')).toBe(true);
    const exemplarLines = body
      .split('\n')
      .filter((l) => l.includes(' # {'))
      .filter(
        (l) => l.startsWith('http_request_duration_seconds_bucket{') && l.includes(`route="${PRICE_ROUTE}"`),
      );
    expect(exemplarLines.length).toBeGreaterThan(0);
    for (const line of exemplarLines) expect(line).toMatch(/ # \{trace_id="[0-9a-f]{32}"\} \S+ \d+(\.\d+)?$/);
    // The text format, as curl gets it, carries none.
    expect(await service.metricsText()).not.toContain('trace_id');
  });

  it('When Prometheus has scraped OpenMetrics, then it stores the metric names of the text format, none renamed', async () => {
    const synthetic = new Set([
      ...PROMETHEUS_SYNTHETIC_METRICS,
      'scrape_series_added',
      'scrape_samples_post_metric_relabeling',
    ]);
    const stored = async () => {
      const result = await prometheus.api<{ result: { metric: { __name__: string } }[] }>(
        `/api/v1/query?query=${encodeURIComponent(`group by (__name__) ({job="${SERVICE_JOB}"})`)}`,
      );
      // Recording rules (job:...) keep the job label; they are Prometheus's, not scraped.
      const names = result.result
        .map((r) => r.metric.__name__)
        .filter((n) => !synthetic.has(n) && !n.includes(':'));
      const text = [...new Set(parseExposition(await service.metricsText()).series.map((s) => s.name))];
      return { stored: names.sort(), text: text.sort() };
    };
    const names = await eventually(stored, (n) => n.stored.join() === n.text.join(), {
      timeoutMs: 10_000,
      intervalMs: 500,
      what: 'the same metric names in Prometheus and in the text format',
    });
    expect(names.stored).toContain('price_responses_total');
    expect(names.stored.filter((n) => n.endsWith('_total_total'))).toEqual([]);
  });
});

import { metricVocabulary } from '../../src/composition/metric-vocabulary';
import { loadConfig } from '../../src/config';
import { METRICS, zeroSeries, type MetricSpec } from '../../src/observability/metric-spec';
import { createMetrics } from '../../src/observability/metrics';

const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', PAIRS: 'eth-usdt,btc-usdt' });
const vocabulary = metricVocabulary(config);
const SPECS: readonly MetricSpec[] = Object.values(METRICS);

describe('metric spec: one table for every metric', () => {
  test('When the metrics are created, then every spec entry is registered with its name, type and help, and nothing else is', async () => {
    const metrics = createMetrics({ vocabulary, redis: true, defaultMetrics: false });
    const exported = await metrics.registry.getMetricsAsJSON();
    expect(exported.map((m) => m.name).sort()).toEqual(SPECS.map((s) => s.name).sort());
    for (const spec of SPECS) {
      const metric = exported.find((m) => m.name === spec.name);
      expect({ name: metric?.name, type: metric?.type, help: metric?.help }).toEqual({
        name: spec.name,
        type: spec.type,
        help: spec.help,
      });
    }
  });

  test('When a metric names its known label values, then every combination is exported at 0 from the start', async () => {
    const metrics = createMetrics({ vocabulary, redis: true, defaultMetrics: false });
    const exported = await metrics.registry.getMetricsAsJSON();
    const rejections = exported.find((m) => m.name === 'price_source_rejections_total');
    // 2 pairs x 6 sources x 5 reasons
    expect(rejections?.values).toHaveLength(2 * 6 * 5);
    expect(rejections?.values.every((v) => v.value === 0)).toBe(true);
    const responses = exported.find((m) => m.name === 'price_responses_total');
    expect(responses?.values.map((v) => `${v.labels.pair} ${v.labels.status}`)).toContain(
      'btc-usdt not_modified',
    );
  });

  test('When a concept adds a label value, then it is exported at 0 with no edit to the metrics code', async () => {
    const metrics = createMetrics({
      vocabulary: { ...vocabulary, rejectReasons: [...vocabulary.rejectReasons, 'too_many_cookies'] },
      defaultMetrics: false,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('http_rejected_requests_total{reason="too_many_cookies"} 0');
  });

  test('When Redis is not configured, then no Redis series exist rather than false zeros', async () => {
    const plain = loadConfig({});
    const metrics = createMetrics({
      vocabulary: metricVocabulary(plain),
      redis: false,
      defaultMetrics: false,
    });
    const text = await metrics.registry.metrics();
    expect(text).not.toMatch(/^redis_connection_up/m);
    expect(text).not.toMatch(/^redis_errors_total\{/m);
  });

  test('When zero series are listed, then they are the product of the named vocabularies', () => {
    const spec: MetricSpec = {
      name: 'x_total',
      type: 'counter',
      help: 'x',
      zero: { a: 'pairs', b: 'cacheTiers' },
    };
    const series = zeroSeries(spec, { ...vocabulary, pairs: ['p1', 'p2'], cacheTiers: ['l1', 'l2', 'l3'] });
    expect(series).toHaveLength(6);
    expect(series).toContainEqual({ a: 'p2', b: 'l3' });
    expect(zeroSeries({ name: 'y', type: 'gauge', help: 'y' }, vocabulary)).toEqual([]);
  });

  test('When names are read, then they follow Prometheus naming: counters end in _total, durations in _seconds', () => {
    for (const spec of SPECS) {
      expect(spec.name).toMatch(/^[a-z][a-z0-9_]*$/);
      if (spec.type === 'counter') expect(spec.name).toMatch(/_total$/);
      else expect(spec.name).not.toMatch(/_total$/);
      if (spec.type === 'histogram') expect(spec.name).toMatch(/_seconds$/);
    }
  });
});

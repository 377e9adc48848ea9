import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { createHotCounter, createHotHistogram } from '../../src/observability/hot-metrics';

const BUCKETS = [0.005, 0.01, 0.05, 0.1, 1];
const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const OBSERVATIONS = [0.001, 0.005, 0.0051, 0.05, 0.09, 0.1, 0.5, 1, 2, 30];

/** Sorted exposition lines, so series order does not matter. */
async function lines(registry: Registry): Promise<string[]> {
  return (await registry.metrics())
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .sort();
}

describe('hot metrics', () => {
  test('When the same values are observed, then the hot histogram exposes exactly what prom-client does', async () => {
    const reference = new Registry();
    const hot = new Registry();
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['route', 'code'],
      buckets: BUCKETS,
      registers: [reference],
    });
    const observe = createHotHistogram({
      name: 'h_seconds',
      help: 'h',
      buckets: BUCKETS,
      registry: hot,
    }).bind({ route: '/x', code: '200' });
    OBSERVATIONS.forEach((value, i) => {
      histogram.observe({ route: '/x', code: '200' }, value);
      // Exemplars never show in the Prometheus text format: every other observation carries a trace id.
      observe(value, i % 2 === 0 ? TRACE_A : undefined);
    });
    const normalise = (l: string) =>
      l.replace(/\{(.*)\}/, (_m, labels: string) => `{${labels.split(',').sort().join(',')}}`);
    expect((await lines(hot)).map(normalise).sort()).toEqual((await lines(reference)).map(normalise).sort());
    expect(await lines(hot)).toContain('h_seconds_bucket{route="/x",code="200",le="0.1"} 6');
  });

  test('When the same label set is bound twice, then both observers feed one series', async () => {
    const registry = new Registry();
    const counter = createHotCounter({ name: 'c_total', help: 'c', registry });
    counter.bind({ a: '1' })();
    counter.bind({ a: '1' })();
    counter.bind({ a: '2' })();
    expect(await lines(registry)).toEqual(['c_total{a="1"} 2', 'c_total{a="2"} 1']);
  });

  test('When workers report hot metrics, then AggregatorRegistry sums them like prom-client metrics', async () => {
    const workers = [new Registry(), new Registry()];
    workers.forEach((registry, i) => {
      const observe = createHotHistogram({ name: 'h_seconds', help: 'h', buckets: BUCKETS, registry }).bind({
        route: '/x',
      });
      const inc = createHotCounter({ name: 'c_total', help: 'c', registry }).bind({ a: '1' });
      for (let n = 0; n <= i; n++) {
        observe(0.01);
        inc();
      }
    });
    const aggregated = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((r) => r.getMetricsAsJSON())),
    );
    const text = await aggregated.metrics();
    expect(text).toContain('h_seconds_count{route="/x"} 3');
    expect(text).toContain('c_total{a="1"} 3');
    // a prom-client counter in the same registry still works alongside
    const mixed = new Registry();
    new Counter({ name: 'plain_total', help: 'p', registers: [mixed] }).inc();
    createHotCounter({ name: 'c_total', help: 'c', registry: mixed }).bind({})();
    expect(await lines(mixed)).toEqual(['c_total 1', 'plain_total 1']);
  });

  describe('exemplars', () => {
    interface BucketJson {
      labels: Record<string, string | number>;
      metricName?: string;
      exemplar?: { labelSet: Record<string, string>; value: number; timestamp: number };
    }
    async function buckets(registry: Registry): Promise<BucketJson[]> {
      const [metric] = await registry.getMetricsAsJSON();
      return (metric?.values as BucketJson[]).filter((v) => v.metricName === 'h_seconds_bucket');
    }
    /** le → exemplar, for the buckets that have one. */
    async function exemplars(registry: Registry) {
      return Object.fromEntries(
        (await buckets(registry)).filter((b) => b.exemplar).map((b) => [String(b.labels.le), b.exemplar]),
      );
    }
    function histogram() {
      const registry = new Registry();
      const observe = createHotHistogram({ name: 'h_seconds', help: 'h', buckets: BUCKETS, registry }).bind({
        route: '/x',
      });
      return { registry, observe };
    }

    afterEach(() => jest.restoreAllMocks());

    test('When values are observed without a trace id, then no bucket has an exemplar', async () => {
      const { registry, observe } = histogram();
      for (const value of OBSERVATIONS) observe(value);
      observe(0.02, undefined);
      expect(await exemplars(registry)).toEqual({});
      expect((await buckets(registry)).map((b) => 'exemplar' in b)).not.toContain(true);
    });

    test('When a value is observed with a trace id, then the bucket it falls in keeps it with the value and the time in seconds', async () => {
      const { registry, observe } = histogram();
      jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_123);
      observe(0.003);
      observe(0.02, TRACE_A); // in (0.01, 0.05]
      expect(await exemplars(registry)).toEqual({
        '0.05': { labelSet: { trace_id: TRACE_A }, value: 0.02, timestamp: 1_700_000_000.123 },
      });
    });

    test('When values fall on a bound, above the last bound or in the first bucket, then the exemplar is on the bucket that counts them', async () => {
      const { registry, observe } = histogram();
      observe(0.01, TRACE_A); // exactly on a bound: le="0.01" holds it
      observe(30, TRACE_B); // above every bound: +Inf
      observe(0.001, TRACE_B);
      const found = await exemplars(registry);
      expect(Object.keys(found).sort()).toEqual(['+Inf', '0.005', '0.01']);
      expect(found['0.01']).toMatchObject({ labelSet: { trace_id: TRACE_A }, value: 0.01 });
      expect(found['+Inf']).toMatchObject({ labelSet: { trace_id: TRACE_B }, value: 30 });
      expect(found['0.005']).toMatchObject({ labelSet: { trace_id: TRACE_B }, value: 0.001 });
    });

    test('When a bucket gets a second traced value, then it keeps only the latest; untraced values do not replace it', async () => {
      const { registry, observe } = histogram();
      const now = jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
      observe(0.06, TRACE_A);
      now.mockReturnValue(1_700_000_001_000);
      observe(0.07, TRACE_B);
      observe(0.08);
      expect(await exemplars(registry)).toEqual({
        '0.1': { labelSet: { trace_id: TRACE_B }, value: 0.07, timestamp: 1_700_000_001 },
      });
    });

    test('When the histogram is reset, then its exemplars go too', async () => {
      const { registry, observe } = histogram();
      observe(0.02, TRACE_A);
      registry.resetMetrics();
      expect(await exemplars(registry)).toEqual({});
    });

    test('When an exemplar is recorded, then the Prometheus text format is still free of it', async () => {
      const { registry, observe } = histogram();
      observe(0.02, TRACE_A);
      const text = await registry.metrics();
      expect(text).not.toContain(TRACE_A);
      expect(text).toContain('h_seconds_bucket{route="/x",le="0.05"} 1\n');
    });
  });
});

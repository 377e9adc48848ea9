import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { createHotCounter, createHotHistogram } from '../../src/shared/hot-metrics';

const BUCKETS = [0.005, 0.01, 0.05, 0.1, 1];
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
    for (const value of OBSERVATIONS) {
      histogram.observe({ route: '/x', code: '200' }, value);
      observe(value);
    }
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
});

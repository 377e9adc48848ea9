import type { Registry } from 'prom-client';

/**
 * Histogram and counter for the request hot path. prom-client's own `labels().observe()` allocates a label
 * object and hashes it on every call; these bind a series once and then only add numbers. They expose
 * themselves to a prom-client Registry through `get()` in prom-client's own shape, so /metrics text and the
 * cluster's AggregatorRegistry treat them exactly like prom-client metrics.
 */

type Labels = Record<string, string>;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

function register(registry: Registry, metric: { name: string; get(): Promise<unknown> }): void {
  // registerMetric only needs name, get() and reset(): the shape prom-client's own metrics have.
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

export function createHotHistogram(options: {
  name: string;
  help: string;
  buckets: readonly number[];
  registry: Registry;
}) {
  const bounds = [...options.buckets].sort((a, b) => a - b);
  const series: { labels: Labels; counts: Float64Array; sum: number; count: number }[] = [];
  const byKey = new Map<string, (value: number) => void>();

  const metric = {
    name: options.name,
    help: options.help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: MetricValue[] = [];
      for (const s of series) {
        let cumulative = 0;
        bounds.forEach((le, i) => {
          cumulative += s.counts[i] as number;
          values.push({
            labels: { ...s.labels, le },
            value: cumulative,
            metricName: `${options.name}_bucket`,
          });
        });
        values.push({
          labels: { ...s.labels, le: '+Inf' },
          value: s.count,
          metricName: `${options.name}_bucket`,
        });
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${options.name}_sum` });
        values.push({ labels: { ...s.labels }, value: s.count, metricName: `${options.name}_count` });
      }
      return { name: options.name, help: options.help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset() {
      for (const s of series) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    },
  };
  register(options.registry, metric);

  return {
    /** The observer for one label set; call it per request. */
    bind(labels: Labels): (value: number) => void {
      const key = JSON.stringify(labels);
      const bound = byKey.get(key);
      if (bound !== undefined) return bound;
      const s = { labels: { ...labels }, counts: new Float64Array(bounds.length), sum: 0, count: 0 };
      series.push(s);
      const observe = (value: number) => {
        s.sum += value;
        s.count += 1;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= (bounds[i] as number)) {
            s.counts[i] = (s.counts[i] as number) + 1;
            return;
          }
        }
      };
      byKey.set(key, observe);
      return observe;
    },
  };
}

export function createHotCounter(options: { name: string; help: string; registry: Registry }) {
  const series: { labels: Labels; value: number }[] = [];
  const byKey = new Map<string, () => void>();
  register(options.registry, {
    name: options.name,
    async get() {
      return {
        name: options.name,
        help: options.help,
        type: 'counter',
        aggregator: 'sum',
        values: series.map((s) => ({ labels: { ...s.labels }, value: s.value })),
      };
    },
    reset() {
      for (const s of series) s.value = 0;
    },
  } as { name: string; get(): Promise<unknown> });
  return {
    bind(labels: Labels): () => void {
      const key = JSON.stringify(labels);
      const bound = byKey.get(key);
      if (bound !== undefined) return bound;
      const s = { labels: { ...labels }, value: 0 };
      series.push(s);
      const inc = () => {
        s.value += 1;
      };
      byKey.set(key, inc);
      return inc;
    },
  };
}

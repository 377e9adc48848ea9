import type { Registry } from 'prom-client';

/**
 * Histogram and counter for the request hot path. prom-client's own `labels().observe()` allocates a label
 * object and hashes it on every call; these bind a series once and then only add numbers. They expose
 * themselves to a prom-client Registry through `get()` in prom-client's own shape, so /metrics text and the
 * cluster's AggregatorRegistry treat them exactly like prom-client metrics.
 *
 * The histogram also keeps, per series and bucket, the last observation made with a trace id (an exemplar:
 * Grafana jumps from a latency panel to that trace). prom-client prints exemplars only in the OpenMetrics
 * format, and its AggregatorRegistry drops them: cluster/metrics-server.ts merges them back.
 */

type Labels = Record<string, string>;

/** An OpenMetrics exemplar in prom-client's shape; rendered only in the OpenMetrics format. */
export interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  /** Unix time in seconds. */
  timestamp: number;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  exemplar?: Exemplar;
}

/** The exemplar label that carries the trace id (Grafana's `exemplarTraceIdDestinations` name). */
export const TRACE_ID_LABEL = 'trace_id';

/** Observes one value; with a trace id, also keeps it as the exemplar of the bucket the value falls in. */
export type HistogramObserver = (value: number, traceId?: string) => void;

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
  const n = bounds.length;
  // Per series, the last traced observation of each bucket (index n is +Inf), in slots allocated at bind
  // time: an untraced observation allocates nothing, a traced one no object (the trace id string is the
  // span's own). Exemplar objects are built only when /metrics is collected.
  const series: {
    labels: Labels;
    counts: Float64Array;
    sum: number;
    count: number;
    exemplarTraceIds: (string | undefined)[];
    exemplarValues: Float64Array;
    exemplarTimes: Float64Array;
  }[] = [];
  const byKey = new Map<string, HistogramObserver>();
  const bucketName = `${options.name}_bucket`;

  const exemplarOf = (s: (typeof series)[number], i: number): Exemplar | undefined => {
    const traceId = s.exemplarTraceIds[i];
    if (traceId === undefined) return undefined;
    return {
      labelSet: { [TRACE_ID_LABEL]: traceId },
      value: s.exemplarValues[i] as number,
      timestamp: s.exemplarTimes[i] as number,
    };
  };

  const metric = {
    name: options.name,
    help: options.help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: MetricValue[] = [];
      for (const s of series) {
        let cumulative = 0;
        for (let i = 0; i <= n; i++) {
          const last = i === n;
          cumulative += last ? 0 : (s.counts[i] as number);
          const value: MetricValue = {
            labels: { ...s.labels, le: last ? '+Inf' : (bounds[i] as number) },
            value: last ? s.count : cumulative,
            metricName: bucketName,
          };
          const exemplar = exemplarOf(s, i);
          if (exemplar !== undefined) value.exemplar = exemplar;
          values.push(value);
        }
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
        s.exemplarTraceIds.fill(undefined);
      }
    },
  };
  register(options.registry, metric);

  return {
    /** The observer for one label set; call it per request. */
    bind(labels: Labels): HistogramObserver {
      const key = JSON.stringify(labels);
      const bound = byKey.get(key);
      if (bound !== undefined) return bound;
      const s = {
        labels: { ...labels },
        counts: new Float64Array(n),
        sum: 0,
        count: 0,
        exemplarTraceIds: new Array<string | undefined>(n + 1).fill(undefined),
        exemplarValues: new Float64Array(n + 1),
        exemplarTimes: new Float64Array(n + 1),
      };
      series.push(s);
      const observe = (value: number, traceId?: string) => {
        s.sum += value;
        s.count += 1;
        // The first bucket whose bound holds the value; n is +Inf (also where NaN goes, as before).
        let i = 0;
        while (i < n && !(value <= (bounds[i] as number))) i++;
        if (i < n) s.counts[i] = (s.counts[i] as number) + 1;
        if (traceId !== undefined) {
          s.exemplarTraceIds[i] = traceId;
          s.exemplarValues[i] = value;
          s.exemplarTimes[i] = Date.now() / 1000;
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

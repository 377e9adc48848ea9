/**
 * The server's own view of a run: the price route's latency histogram scraped from /metrics before and after,
 * subtracted, and read the way Prometheus' histogram_quantile reads it.
 */

export const PRICE_ROUTE = '/api/v1/prices/:pair';
const FAMILY = 'http_request_duration_seconds';

export interface Histogram {
  /** Finite upper bounds, ascending. */
  bounds: number[];
  /** Cumulative count at each bound, then the +Inf count (the total) last. */
  cumulative: number[];
  /** Requests by status code, from the _count series. */
  byStatus: Record<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The price route's histogram summed over method and status code, from Prometheus text exposition. */
export function priceRouteHistogram(exposition: string, route = PRICE_ROUTE): Histogram {
  const buckets = new Map<number, number>();
  const byStatus: Record<string, number> = {};
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(FAMILY)) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries([...(match[2] as string).matchAll(LABEL)].map((m) => [m[1], m[2]]));
    if (labels.route !== route) continue;
    const value = Number(match[3]);
    if (match[1] === `${FAMILY}_bucket`) {
      const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    } else if (match[1] === `${FAMILY}_count` && labels.status_code !== undefined) {
      byStatus[labels.status_code] = (byStatus[labels.status_code] ?? 0) + value;
    }
  }
  const bounds = [...buckets.keys()].filter(Number.isFinite).sort((a, b) => a - b);
  return {
    bounds,
    cumulative: [...bounds.map((b) => buckets.get(b) as number), buckets.get(Infinity) ?? 0],
    byStatus,
  };
}

/** after − before, bucket by bucket; a scrape taken before the service started counts as empty. */
export function histogramDelta(after: Histogram, before: Histogram | undefined): Histogram {
  if (before === undefined || before.bounds.length === 0) return after;
  if (before.bounds.join() !== after.bounds.join())
    throw new Error('the bucket bounds changed between scrapes');
  const byStatus: Record<string, number> = {};
  for (const [status, count] of Object.entries(after.byStatus)) {
    byStatus[status] = count - (before.byStatus[status] ?? 0);
  }
  return {
    bounds: after.bounds,
    cumulative: after.cumulative.map((count, i) => count - (before.cumulative[i] ?? 0)),
    byStatus,
  };
}

export function total(histogram: Histogram): number {
  return histogram.cumulative.at(-1) ?? 0;
}

/**
 * histogram_quantile(q): linear interpolation inside the bucket that holds the q-th observation; in the +Inf
 * bucket, the highest finite bound. NaN with no observations.
 */
export function quantile(histogram: Histogram, q: number): number {
  const count = total(histogram);
  if (count === 0) return NaN;
  const rank = q * count;
  for (let i = 0; i < histogram.cumulative.length; i++) {
    const cumulative = histogram.cumulative[i] as number;
    if (cumulative < rank) continue;
    if (i >= histogram.bounds.length) return histogram.bounds.at(-1) ?? NaN;
    const upper = histogram.bounds[i] as number;
    const lower = i === 0 ? 0 : (histogram.bounds[i - 1] as number);
    const below = i === 0 ? 0 : (histogram.cumulative[i - 1] as number);
    const inBucket = cumulative - below;
    return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return histogram.bounds.at(-1) ?? NaN;
}

/** Index of the bucket a value falls in (the first bound ≥ value); bounds.length for +Inf. */
export function bucketIndex(bounds: readonly number[], seconds: number): number {
  const index = bounds.findIndex((bound) => seconds <= bound);
  return index === -1 ? bounds.length : index;
}

/** How many buckets apart two latencies are (0: the same bucket). */
export function bucketsApart(bounds: readonly number[], aSeconds: number, bSeconds: number): number {
  return Math.abs(bucketIndex(bounds, aSeconds) - bucketIndex(bounds, bSeconds));
}

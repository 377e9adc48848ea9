import {
  bucketIndex,
  bucketsApart,
  histogramDelta,
  priceRouteHistogram,
  quantile,
  total,
} from '../src/server-histogram';

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** Exposition for the price route with the given cumulative counts per status code (last = +Inf). */
function exposition(series: Record<string, number[]>, extra = ''): string {
  const lines = ['# TYPE http_request_duration_seconds histogram'];
  for (const [status, counts] of Object.entries(series)) {
    const labels = `route="/api/v1/prices/:pair",method="GET",status_code="${status}"`;
    BOUNDS.forEach((le, i) =>
      lines.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${counts[i]}`),
    );
    lines.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${counts.at(-1)}`);
    lines.push(`http_request_duration_seconds_count{${labels}} ${counts.at(-1)}`);
  }
  return lines.join('\n') + '\n' + extra;
}

describe("the server's histogram of the price route", () => {
  const other =
    'http_request_duration_seconds_bucket{route="/health/readiness",method="GET",status_code="200",le="0.001"} 99\n';
  const before = priceRouteHistogram(exposition({ '200': [10, 10, 10, 10, 10, 10, 10, 10, 10] }, other));
  const after = priceRouteHistogram(
    exposition(
      { '200': [50, 80, 100, 105, 108, 109, 110, 110, 110], '503': [0, 0, 0, 0, 0, 0, 5, 5, 5] },
      other,
    ),
  );
  const delta = histogramDelta(after, before);

  it('sums over status codes and ignores other routes', () => {
    expect(after.bounds).toEqual(BOUNDS);
    expect(after.cumulative).toEqual([50, 80, 100, 105, 108, 109, 115, 115, 115]);
    expect(after.byStatus).toEqual({ '200': 110, '503': 5 });
  });

  it('subtracts the scrape before the run', () => {
    expect(delta.cumulative).toEqual([40, 70, 90, 95, 98, 99, 105, 105, 105]);
    expect(delta.byStatus).toEqual({ '200': 100, '503': 5 });
    expect(total(delta)).toBe(105);
    expect(histogramDelta(after, undefined)).toBe(after);
  });

  it('reads quantiles as histogram_quantile does: linear inside the bucket', () => {
    // rank 52.5 of 105 falls in (0.001, 0.0025] holding 30 observations, 12.5 of them needed.
    expect(quantile(delta, 0.5)).toBeCloseTo(0.001 + 0.0015 * (12.5 / 30), 12);
    // rank 103.95: in (0.05, 0.1], which holds the last 6.
    expect(quantile(delta, 0.99)).toBeCloseTo(0.05 + 0.05 * ((103.95 - 99) / 6), 12);
  });

  it('answers the highest finite bound in the +Inf bucket and NaN with no observations', () => {
    const slow = priceRouteHistogram(exposition({ '200': [0, 0, 0, 0, 0, 0, 0, 0, 10] }));
    expect(quantile(slow, 0.99)).toBe(0.25);
    expect(quantile(priceRouteHistogram(''), 0.99)).toBeNaN();
  });

  it('refuses to subtract histograms whose buckets differ', () => {
    const fewer = priceRouteHistogram(
      exposition({ '200': [1, 1, 1, 1, 1, 1, 1, 1, 1] }).replace(/.*le="0.25".*\n/, ''),
    );
    expect(() => histogramDelta(after, fewer)).toThrow('bucket bounds changed');
  });

  it('tells how many buckets apart two latencies are', () => {
    expect(bucketIndex(BOUNDS, 0.001)).toBe(0);
    expect(bucketIndex(BOUNDS, 0.0011)).toBe(1);
    expect(bucketIndex(BOUNDS, 9)).toBe(BOUNDS.length);
    expect(bucketsApart(BOUNDS, 0.004, 0.003)).toBe(0);
    expect(bucketsApart(BOUNDS, 0.028, 0.001)).toBe(5);
  });
});

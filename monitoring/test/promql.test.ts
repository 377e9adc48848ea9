import {
  GRAFANA_DURATION_MARKERS,
  baseMetricName,
  metricNamesInExpr,
  metricNamesInTemplateQuery,
  parsePromQL,
  templateQueryExpr,
} from './promql';

describe('metricNamesInExpr', () => {
  it('When a selector has label matchers, then only the metric name is returned', () => {
    expect(metricNamesInExpr('price_age_seconds{job="price-service",pair=~"eth-.*"}')).toEqual([
      'price_age_seconds',
    ]);
  });

  it('When histogram series are read, then _bucket, _count and _sum fold to the histogram name', () => {
    const expr =
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{le="0.1"}[5m]))) ' +
      '/ sum(rate(http_request_duration_seconds_count[5m])) + sum(rate(nodejs_gc_duration_seconds_sum[1m]))';
    expect(metricNamesInExpr(expr)).toEqual(['http_request_duration_seconds', 'nodejs_gc_duration_seconds']);
  });

  it('When aggregations and functions wrap the selector, then their names are not metrics', () => {
    expect(
      metricNamesInExpr(
        'max by (job, source) (min_over_time(upstream_circuit_state[5m])) > 0 and absent(up == 1)',
      ),
    ).toEqual(['upstream_circuit_state', 'up']);
    expect(metricNamesInExpr('count(ALERTS{alertstate="firing"}) or vector(0)')).toEqual(['ALERTS']);
    expect(metricNamesInExpr('sum without (instance) (rate(redis_errors_total[5m]))')).toEqual([
      'redis_errors_total',
    ]);
  });

  it('When vector matching keywords and label lists are used, then label names are not metrics', () => {
    const expr =
      'max by (job, pair) (price_quorum_sources) < on (job) group_left (pair) max by (job) (price_quorum_min_sources)' +
      ' unless ignoring (instance) cluster_workers_alive > bool 0';
    expect(metricNamesInExpr(expr)).toEqual([
      'price_quorum_sources',
      'price_quorum_min_sources',
      'cluster_workers_alive',
    ]);
  });

  it('When recording-rule names appear, then they are kept whole, colons included', () => {
    expect(
      metricNamesInExpr(
        'job:slo_error:ratio_rate1h{slo="availability"} > (14.4 * 0.001) and on (job) job:slo_requests:rate1h > 1',
      ),
    ).toEqual(['job:slo_error:ratio_rate1h', 'job:slo_requests:rate1h']);
  });

  it('When offsets, durations, @ modifiers and numbers appear, then none of them is a metric', () => {
    expect(metricNamesInExpr('app_info unless app_info offset 1m')).toEqual(['app_info']);
    expect(
      metricNamesInExpr('rate(process_cpu_seconds_total[5m:30s] @ end()) * 1e3 + 0x1F - Inf + NaN'),
    ).toEqual(['process_cpu_seconds_total']);
    expect(metricNamesInExpr('time() - price_last_published_timestamp_seconds offset -1h30m')).toEqual([
      'price_last_published_timestamp_seconds',
    ]);
  });

  it('When strings hold words, then label values and label_replace arguments are ignored', () => {
    expect(
      metricNamesInExpr('label_replace(up{job="price-service"}, "replica", "$1", "instance", "(.*):8001")'),
    ).toEqual(['up']);
    expect(metricNamesInExpr("price_responses_total{status='stale', pair!~`btc.*`}")).toEqual([
      'price_responses_total',
    ]);
  });

  it('When Grafana variables are used, then they are not metrics', () => {
    expect(
      metricNamesInExpr(
        'sum(rate(upstream_requests_total{source=~"$source",pair=~"${pair}"}[$__rate_interval])) / $__range_s',
      ),
    ).toEqual(['upstream_requests_total']);
  });

  it('When a metric is selected through __name__, then that name is returned', () => {
    expect(metricNamesInExpr('{__name__="price_sources_configured", job="price-service"}')).toEqual([
      'price_sources_configured',
    ]);
  });

  it('When a multi-line expression has comments, then the comments are ignored', () => {
    expect(metricNamesInExpr('sum(rate(upstream_retries_total[5m])) # retries_total per second\n')).toEqual([
      'upstream_retries_total',
    ]);
  });

  it('When a metric appears twice, then it is listed once', () => {
    expect(metricNamesInExpr('price_age_seconds > 20 and price_age_seconds < 60')).toEqual([
      'price_age_seconds',
    ]);
  });
});

describe('baseMetricName and metricNamesInTemplateQuery', () => {
  it('When a name has no histogram suffix or is a recording rule, then it is unchanged', () => {
    expect(baseMetricName('upstream_requests_total')).toBe('upstream_requests_total');
    expect(baseMetricName('job:slo_requests_count:rate5m')).toBe('job:slo_requests_count:rate5m');
  });

  it('When a Grafana variable query uses label_values, then its metric is found', () => {
    expect(
      metricNamesInTemplateQuery('label_values(price_responses_total{job="price-service"}, pair)'),
    ).toEqual(['price_responses_total']);
    expect(metricNamesInTemplateQuery('label_values(pair)')).toEqual([]);
  });
});

describe('parsePromQL (the lezer grammar of Prometheus)', () => {
  it('When an expression is broken, then it reports a syntax error and metricNamesInExpr refuses it', () => {
    expect(parsePromQL('sum(rate(price_age_seconds[5m])').errors).not.toEqual([]);
    expect(parsePromQL('price_age_seconds > > 20').errors).not.toEqual([]);
    expect(parsePromQL('').errors).toEqual(['empty expression']);
    expect(() => metricNamesInExpr('rate(foo[5m]')).toThrow('invalid PromQL');
  });

  it('When selectors are read, then names, matchers, ranges and the enclosing function come from the tree', () => {
    const { selectors } = parsePromQL(
      'sum by (le) (rate(http_request_duration_seconds_bucket{job="price-service",route!~"/health.*"}[$__rate_interval])) / max(up{job=\'price-service\'} offset 5m)',
    );
    expect(selectors).toEqual([
      {
        name: 'http_request_duration_seconds_bucket',
        matchers: [
          { label: 'job', op: '=', value: 'price-service' },
          { label: 'route', op: '!~', value: '/health.*' },
        ],
        range: GRAFANA_DURATION_MARKERS.__rate_interval,
        fn: 'rate',
        text: 'http_request_duration_seconds_bucket{job="price-service",route!~"/health.*"}[8869990787ms]',
      },
      {
        name: 'up',
        matchers: [{ label: 'job', op: '=', value: 'price-service' }],
        range: undefined,
        fn: undefined, // max is an aggregation, not a function
        text: "up{job='price-service'}",
      },
    ]);
  });

  it('When a Prometheus 3 UTF-8 name is quoted inside the braces, then it is the metric name', () => {
    expect(metricNamesInExpr('{"price.age.seconds", job="price-service"}')).toEqual(['price.age.seconds']);
    expect(parsePromQL('{"price.age.seconds", "service.name"="x"}').selectors[0]?.matchers).toEqual([
      { label: 'service.name', op: '=', value: 'x' },
    ]);
  });

  it('When Grafana variables stand where PromQL wants a number or a duration, then they parse', () => {
    expect(
      parsePromQL('increase(foo_total[$__range]) / $__range_s + rate(foo_total[${__interval}])').errors,
    ).toEqual([]);
    expect(templateQueryExpr('label_values(up{job="price-service"}, instance)')).toBe(
      'up{job="price-service"}',
    );
    expect(templateQueryExpr('label_values(instance)')).toBeUndefined();
    expect(templateQueryExpr('query_result(max by (pair) (price_age_seconds))')).toBe(
      'max by (pair) (price_age_seconds)',
    );
  });
});

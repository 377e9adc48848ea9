import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, PAIR_VARIABLE, SOURCE_VARIABLE } from './dashboard';
import { stateTimeline, timeseries } from './panels';

export const sourcesDashboard = (): Dashboard =>
  buildDashboard({
    uid: 'price-service-sources',
    title: 'Price service / Sources',
    description:
      'The exchanges behind the price: per-source latency, outcomes, breaker state, deviation from the cross-source median, quorum and aggregation rounds.',
    tags: ['sources'],
    variables: [PAIR_VARIABLE, SOURCE_VARIABLE],
    rows: [
      {
        title: 'Quorum and aggregation',
        panels: [
          timeseries({
            title: 'Sources accepted vs quorum',
            description:
              'Sources accepted in the last round per pair, against the minimum (MIN_QUORUM) and the number configured. Under the minimum, no new price is published (PriceQuorumLost).',
            unit: 'none',
            width: 12,
            height: 8,
            decimals: 0,
            queries: [
              {
                expr: 'max by (pair) (price_quorum_sources{job="price-service",pair=~"$pair"})',
                legend: 'accepted {{pair}}',
              },
              { expr: 'max(price_quorum_min_sources{job="price-service"})', legend: 'minimum' },
              { expr: 'max(price_sources_configured{job="price-service"})', legend: 'configured' },
            ],
            min: 0,
          }),
          timeseries({
            title: 'Aggregation rounds by result',
            description:
              'Rounds per second: published (quorum met) or no_quorum (the last good price is kept).',
            unit: 'ops',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (pair, result) (rate(price_refresh_rounds_total{job="price-service",pair=~"$pair"}[$__rate_interval]))',
                legend: '{{pair}} {{result}}',
              },
            ],
            fillOpacity: 40,
            stacked: true,
          }),
          timeSinceLastPublished(),
          stateTimeline({
            title: 'Source used in the last round',
            description:
              'Whether each source contributed to the last aggregation round (used) or was left out (rejected as an outlier, stale, errored, breaker open or rate limited).',
            unit: 'none',
            width: 12,
            height: 8,
            query: {
              expr: 'max by (source) (price_source_up{job="price-service",source=~"$source",pair=~"$pair"})',
              legend: '{{source}}',
            },
            states: [
              { value: 1, text: 'used', color: 'green' },
              { value: 0, text: 'left out', color: 'red' },
            ],
          }),
        ],
      },
      {
        title: 'Per exchange',
        panels: [
          timeseries({
            title: 'Upstream latency p50 / p99 by source',
            description:
              'Duration of successful fetches per exchange, retries included. The fetch timeout (UPSTREAM_TIMEOUT_MS, 800ms by default) caps what a source can cost a round.',
            unit: 's',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'histogram_quantile(0.5, sum by (source, le) (rate(upstream_request_duration_seconds_bucket{job="price-service",source=~"$source",outcome="success"}[$__rate_interval])))',
                legend: 'p50 {{source}}',
              },
              {
                expr: 'histogram_quantile(0.99, sum by (source, le) (rate(upstream_request_duration_seconds_bucket{job="price-service",source=~"$source",outcome="success"}[$__rate_interval])))',
                legend: 'p99 {{source}}',
              },
            ],
          }),
          timeseries({
            title: 'Upstream error ratio by source',
            description:
              'Share of fetches per exchange that did not succeed (HTTP error, timeout, unreachable, invalid body, rate limited, breaker open, cooling down).',
            unit: 'percentunit',
            width: 12,
            height: 8,
            thresholds: ['green', [0.1, 'orange'], [0.5, 'red']],
            queries: [
              {
                expr: 'sum by (source) (rate(upstream_requests_total{job="price-service",source=~"$source",outcome!="success"}[$__rate_interval])) / sum by (source) (rate(upstream_requests_total{job="price-service",source=~"$source"}[$__rate_interval]))',
                legend: '{{source}}',
              },
            ],
            min: 0,
            max: 1,
            thresholdLines: true,
          }),
          timeseries({
            title: 'Upstream requests by outcome',
            description: 'Fetches per second by exchange and outcome.',
            unit: 'reqps',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (source, outcome) (rate(upstream_requests_total{job="price-service",source=~"$source"}[$__rate_interval]))',
                legend: '{{source}} {{outcome}}',
              },
            ],
          }),
          stateTimeline({
            title: 'Circuit breaker state',
            description:
              'Breaker per exchange (worst replica): closed, half-open (a trial request is allowed) or open (the source is skipped). Open for 10 minutes fires PriceSourceCircuitOpen.',
            unit: 'none',
            width: 12,
            height: 8,
            query: {
              expr: 'max by (source) (upstream_circuit_state{job="price-service",source=~"$source"})',
              legend: '{{source}}',
            },
            states: [
              { value: 0, text: 'closed', color: 'green' },
              { value: 1, text: 'half-open', color: 'yellow' },
              { value: 2, text: 'open', color: 'red' },
            ],
          }),
          timeseries({
            title: 'Deviation from the cross-source median',
            description:
              "Distance of each source's mid price from the median of all sources in the last round. Past MAX_DEVIATION_BPS (100 bps = 1% by default) the quote is rejected as an outlier.",
            unit: 'percentunit',
            width: 12,
            height: 8,
            decimals: 3,
            thresholds: ['green', [0.005, 'orange'], [0.01, 'red']],
            queries: [
              {
                expr: 'max by (source) (price_source_deviation_ratio{job="price-service",source=~"$source",pair=~"$pair"})',
                legend: '{{source}}',
              },
            ],
            thresholdLines: true,
          }),
          timeseries({
            title: 'Quotes left out by reason',
            description: 'Quotes left out of aggregation rounds per second, by exchange and reason.',
            unit: 'ops',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (source, reason) (rate(price_source_rejections_total{job="price-service",source=~"$source",pair=~"$pair"}[$__rate_interval]))',
                legend: '{{source}} {{reason}}',
              },
            ],
            fillOpacity: 40,
            stacked: true,
          }),
          timeseries({
            title: 'Retries by source',
            description:
              'HTTP retries per second (network errors, 5xx, 429) per exchange. Retries count inside the fetch duration.',
            unit: 'reqps',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (source) (rate(upstream_retries_total{job="price-service",source=~"$source"}[$__rate_interval]))',
                legend: '{{source}}',
              },
            ],
          }),
          timeseries({
            title: 'Single-flight leases by result',
            description:
              'Per-source leases across replicas: acquired (this replica fetched), held_elsewhere (read the shared result from Redis), unavailable (Redis down, fetched locally).',
            unit: 'ops',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (result) (rate(price_refresh_leases_total{job="price-service",source=~"$source"}[$__rate_interval]))',
                legend: '{{result}}',
              },
            ],
            fillOpacity: 40,
            stacked: true,
          }),
        ],
      },
    ],
  });

/** Also on the cache dashboard, next to the price age: the two sides of freshness. */
export const timeSinceLastPublished = () =>
  timeseries({
    title: 'Time since last published price',
    description:
      'Seconds since a round last met the quorum, per pair. Grows by one per second while the quorum is lost.',
    unit: 's',
    width: 12,
    height: 8,
    thresholds: ['green', [20, 'orange'], [60, 'red']],
    queries: [
      {
        expr: 'time() - max by (pair) (price_last_published_timestamp_seconds{job="price-service",pair=~"$pair"})',
        legend: '{{pair}}',
      },
    ],
    thresholdLines: true,
  });

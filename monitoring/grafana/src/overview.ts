import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, PAIR_VARIABLE } from './dashboard';
import { historyRow } from './history-row';
import { logs, stat, timeseries } from './panels';

export const overviewDashboard = (): Dashboard =>
  buildDashboard({
    uid: 'price-service-overview',
    title: 'Price service / Overview',
    description:
      'RED view of the ETH/USDT price service: rate, errors and duration per route, status codes, price statuses, recent error logs.',
    tags: ['overview'],
    variables: [PAIR_VARIABLE],
    rows: [
      {
        title: 'At a glance (price route)',
        panels: [
          stat({
            title: 'Price requests',
            description: 'Requests per second to /api/v1/prices/:pair, all replicas, all status codes.',
            unit: 'reqps',
            width: 4,
            height: 4,
            query: {
              expr: 'sum(rate(http_request_duration_seconds_count{job="price-service",route="/api/v1/prices/:pair"}[$__rate_interval]))',
            },
          }),
          stat({
            title: '5xx ratio',
            description:
              'Share of price requests answered 5xx over the selected rate interval. The availability SLO allows 0.1% over 30 days.',
            unit: 'percentunit',
            width: 4,
            height: 4,
            decimals: 2,
            thresholds: ['green', [0.001, 'orange'], [0.01, 'red']],
            query: {
              expr: '(sum(rate(http_request_duration_seconds_count{job="price-service",route="/api/v1/prices/:pair",status_code=~"5.."}[$__rate_interval])) or vector(0)) / sum(rate(http_request_duration_seconds_count{job="price-service",route="/api/v1/prices/:pair"}[$__rate_interval]))',
            },
          }),
          stat({
            title: 'p99 latency',
            description:
              'Server-side 99th percentile of the price route, interpolated within histogram buckets. The latency SLO wants 99% under 100ms; the direct alert fires above 250ms.',
            unit: 's',
            width: 4,
            height: 4,
            thresholds: ['green', [0.1, 'orange'], [0.25, 'red']],
            query: {
              expr: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="price-service",route="/api/v1/prices/:pair"}[$__rate_interval])))',
            },
          }),
          stat({
            title: 'Price age',
            description:
              'Age of the price that would be served now, from its oldest source timestamp (worst pair, worst replica). Past MAX_STALENESS (60s by default) the service answers 503.',
            unit: 's',
            width: 4,
            height: 4,
            thresholds: ['green', [10, 'orange'], [20, 'red']],
            query: { expr: 'max(price_age_seconds{job="price-service",pair=~"$pair"})' },
          }),
          stat({
            title: 'Sources in quorum',
            description:
              'Sources accepted in the last aggregation round (fewest over the selected pairs). Below price_quorum_min_sources no new price is published.',
            unit: 'none',
            width: 4,
            height: 4,
            thresholds: ['red', [3, 'orange'], [4, 'green']],
            query: { expr: 'min(price_quorum_sources{job="price-service",pair=~"$pair"})' },
          }),
          stat({
            title: 'Replicas up',
            description: 'Price-service targets that answered their last scrape, out of those discovered.',
            unit: 'none',
            width: 4,
            height: 4,
            thresholds: ['red', [1, 'green']],
            query: { expr: 'sum(up{job="price-service"})' },
          }),
        ],
      },
      {
        title: 'Rate, errors, duration per route',
        panels: [
          timeseries({
            title: 'Request rate by route',
            description: 'Requests per second by route template (unmatched = 404s on unknown paths).',
            unit: 'reqps',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (route) (rate(http_request_duration_seconds_count{job="price-service"}[$__rate_interval]))',
                legend: '{{route}}',
              },
            ],
          }),
          timeseries({
            title: '5xx rate by route',
            description:
              'Server errors per second by route. A 503 on the price route means no price fresh enough to serve.',
            unit: 'reqps',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (route) (rate(http_request_duration_seconds_count{job="price-service",status_code=~"5.."}[$__rate_interval]))',
                legend: '{{route}}',
              },
            ],
          }),
          timeseries({
            title: 'Price route latency p50 / p90 / p99',
            description:
              'Quantiles of the price route from the histogram. Dots are exemplars: click one to open its trace in Tempo. Dashed lines: the 100ms SLO threshold and the 250ms p99 alert.',
            unit: 's',
            width: 12,
            height: 8,
            thresholds: ['green', [0.1, 'orange'], [0.25, 'red']],
            queries: [
              {
                expr: 'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{job="price-service",route="/api/v1/prices/:pair"}[$__rate_interval])))',
                legend: 'p50',
              },
              {
                expr: 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="price-service",route="/api/v1/prices/:pair"}[$__rate_interval])))',
                legend: 'p90',
              },
              {
                expr: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="price-service",route="/api/v1/prices/:pair"}[$__rate_interval])))',
                legend: 'p99',
                exemplar: true,
              },
            ],
            thresholdLines: true,
          }),
          timeseries({
            title: 'p99 latency by route',
            description:
              '99th percentile per route. Health checks and the OpenAPI document should stay far below the price route.',
            unit: 's',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'histogram_quantile(0.99, sum by (route, le) (rate(http_request_duration_seconds_bucket{job="price-service"}[$__rate_interval])))',
                legend: '{{route}}',
              },
            ],
          }),
          timeseries({
            title: 'Responses by status code',
            description:
              'Responses per second by HTTP status code, all routes. 304 = If-None-Match hit; 503 = no servable price.',
            unit: 'reqps',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (status_code) (rate(http_request_duration_seconds_count{job="price-service"}[$__rate_interval]))',
                legend: '{{status_code}}',
              },
            ],
            fillOpacity: 40,
            stacked: true,
          }),
          timeseries({
            title: 'Price responses by price status',
            description:
              'Price responses by the status in the body: ok, degraded (quorum met with fewer sources than configured), stale (last good price past its freshness window), unavailable (503), not_modified (304).',
            unit: 'reqps',
            width: 12,
            height: 8,
            queries: [
              {
                expr: 'sum by (status) (rate(price_responses_total{job="price-service",pair=~"$pair"}[$__rate_interval]))',
                legend: '{{status}}',
              },
            ],
            fillOpacity: 40,
            stacked: true,
          }),
        ],
      },
      {
        title: 'Price streams (server-sent events)',
        panels: [
          timeseries({
            title: 'Stream subscribers',
            description:
              'Open price streams per replica (sum over its workers). Each worker holds at most STREAM_MAX_SUBSCRIBERS_PER_WORKER; more are answered 503.',
            unit: 'none',
            width: 6,
            height: 8,
            queries: [
              {
                expr: 'sum by (instance) (price_stream_subscribers{job="price-service"})',
                legend: '{{instance}}',
              },
            ],
          }),
          timeseries({
            title: 'Stream events sent by type',
            description:
              'Events written to subscribers per second (one per subscriber and event): price (a new snapshot), status (a status change), heartbeat (a comment every STREAM_HEARTBEAT_MS).',
            unit: 'ops',
            width: 6,
            height: 8,
            queries: [
              {
                expr: 'sum by (type) (rate(price_stream_events_sent_total{job="price-service"}[$__rate_interval]))',
                legend: '{{type}}',
              },
            ],
          }),
          timeseries({
            title: 'Streams ended by the server, by reason',
            description:
              'Streams the server ended per second: backpressure (the client did not read; more than STREAM_MAX_BUFFERED_BYTES unsent: alert PriceStreamBackpressureDrops), lifetime (STREAM_MAX_LIFETIME_MS reached; the client reconnects), draining (shutdown).',
            unit: 'ops',
            width: 6,
            height: 8,
            queries: [
              {
                expr: 'sum by (reason) (rate(price_stream_subscribers_dropped_total{job="price-service"}[$__rate_interval]))',
                legend: '{{reason}}',
              },
            ],
          }),
          timeseries({
            title: 'Stream fan-out p50 / p99',
            description:
              "Time from a snapshot reaching a worker to the last of its subscribers' socket writes (price_stream_fanout_seconds). Target: p99 under 50 ms at 10k subscribers per replica.",
            unit: 's',
            width: 6,
            height: 8,
            queries: [
              {
                expr: 'histogram_quantile(0.5, sum by (le) (rate(price_stream_fanout_seconds_bucket{job="price-service"}[$__rate_interval])))',
                legend: 'p50',
              },
              {
                expr: 'histogram_quantile(0.99, sum by (le) (rate(price_stream_fanout_seconds_bucket{job="price-service"}[$__rate_interval])))',
                legend: 'p99',
              },
            ],
          }),
        ],
      },
      historyRow(),
      {
        title: 'Logs',
        panels: [
          logs({
            title: 'Errors and warnings',
            description:
              'Warning and error log lines of the service, newest first. Expand a line and follow TraceID to open its trace in Tempo.',
            width: 24,
            height: 10,
            expr: '{compose_service="price-service", level=~"error|warn"}',
          }),
        ],
      },
    ],
  });

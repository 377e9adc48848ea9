/**
 * The overview dashboard's price history row: is every published price being written, how much is held
 * while the store is away, how late points land, how far back the history reaches, and how fast the history
 * routes answer. The routes are the route table's own path templates (the `route` label of
 * http_request_duration_seconds), so a renamed route cannot leave a dead panel behind.
 */
import {
  BATCH_PRICE_ROUTE,
  CANDLES_ROUTE,
  PRICE_AT_ROUTE,
  TWAP_ROUTE,
} from '../../../service/src/presentation/routes';
import type { Row } from './dashboard';
import { timeseries } from './panels';

/** The routes that read the history, and the batch route that answers several pairs at once. */
export const HISTORY_ROUTES = [PRICE_AT_ROUTE, CANDLES_ROUTE, TWAP_ROUTE, BATCH_PRICE_ROUTE] as const;

// The templates hold no regex metacharacters, so they go into the matcher as they are.
const routeMatcher = `route=~"${HISTORY_ROUTES.join('|')}"`;

export const historyRow = (): Row => ({
  title: 'Price history',
  panels: [
    timeseries({
      title: 'History writes and failures',
      description:
        'Points appended to the history store per second: written, duplicate (the same round already stored by another replica), failed (the store unreachable; the point is held and retried) and dropped (more than HISTORY_PENDING_MAX_POINTS held: a gap). Failures for 5 minutes with points held: alert PriceHistoryWritesFailing.',
      unit: 'ops',
      width: 8,
      height: 8,
      queries: [
        {
          expr: 'sum by (result) (rate(price_history_points_written_total{job="price-service",pair=~"$pair"}[$__rate_interval]))',
          legend: '{{result}}',
        },
        {
          expr: 'sum(rate(price_history_write_failures_total{job="price-service",pair=~"$pair"}[$__rate_interval]))',
          legend: 'failed',
        },
        {
          expr: 'sum(rate(price_history_points_dropped_total{job="price-service",pair=~"$pair"}[$__rate_interval]))',
          legend: 'dropped',
        },
      ],
    }),
    timeseries({
      title: 'History points pending',
      description:
        'Points held in memory per replica, waiting to be written: 0 normally, growing during a Redis outage and written in order when it returns. At HISTORY_PENDING_MAX_POINTS (3,600 by default) the oldest are dropped.',
      unit: 'none',
      width: 8,
      height: 8,
      queries: [
        {
          expr: 'sum by (instance) (price_history_points_pending{job="price-service"})',
          legend: '{{instance}}',
        },
      ],
    }),
    timeseries({
      title: 'History write lag p50 / p99',
      description:
        'Time from a snapshot being published to its history point being stored. Milliseconds normally; after an outage it is how long the held points waited.',
      unit: 's',
      width: 8,
      height: 8,
      queries: [
        {
          expr: 'histogram_quantile(0.5, sum by (le) (rate(price_history_write_lag_seconds_bucket{job="price-service"}[$__rate_interval])))',
          legend: 'p50',
        },
        {
          expr: 'histogram_quantile(0.99, sum by (le) (rate(price_history_write_lag_seconds_bucket{job="price-service"}[$__rate_interval])))',
          legend: 'p99',
        },
      ],
    }),
    timeseries({
      title: 'Oldest history point kept (age)',
      description:
        'How far back the fine history reaches per pair: now minus the oldest point kept. Levels off at HISTORY_POINTS_RETENTION (24 h by default) once the store is full; a drop means the history was lost (Redis flushed, or the primary restarted without Redis).',
      unit: 's',
      width: 12,
      height: 8,
      queries: [
        {
          expr: 'time() - min by (pair) (price_history_oldest_point_timestamp_seconds{job="price-service",pair=~"$pair"})',
          legend: '{{pair}}',
        },
      ],
    }),
    timeseries({
      title: 'History route latency p99',
      description:
        'Server-side 99th percentile per history route (price at an instant, candles, TWAP, several pairs in one call). Targets: at p99 under 5 ms, 24 h of 1m candles under 25 ms (docs/performance.md); the latency SLO (100 ms) covers the price route.',
      unit: 's',
      width: 12,
      height: 8,
      thresholds: ['green', [0.1, 'orange']],
      thresholdLines: true,
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (route, le) (rate(http_request_duration_seconds_bucket{job="price-service",${routeMatcher}}[$__rate_interval])))`,
          legend: '{{route}}',
        },
      ],
    }),
  ],
});

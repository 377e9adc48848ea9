import {
  HTTP_DURATION_BUCKETS as SERVICE_BUCKETS,
  METRICS,
} from '../../service/src/observability/metric-spec';
import { PRICE_ROUTE as SERVICE_PRICE_ROUTE } from '../../service/src/presentation/routes';

/**
 * Every metric family the service exports on :8001 (service/src/observability/metric-spec.ts plus prom-client's
 * default metrics), as declared by the `# TYPE` lines: a histogram is listed once, without its _bucket/_count/_sum.
 *
 * Read from the spec, so the static tests (alert-rules, dashboards) run without starting anything, and kept honest by
 * live-metrics.test.ts: it scrapes the real clustered service and fails when this list and the scrape differ
 * either way. So a renamed metric breaks the monitoring tests instead of silently emptying a panel.
 *
 * Not listed: process_start_time_seconds. prom-client's cluster aggregation omits it (aggregator 'omit':
 * start times of several processes do not add up), so the clustered service never exports it.
 */
export const KNOWN_METRICS: readonly string[] = [
  // The service's own, from its metric specification (one entry per metric).
  ...Object.values(METRICS).map((spec) => spec.name),
  // prom-client default metrics (v15)
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_handles',
  'nodejs_active_requests',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
];

/** Series Prometheus itself writes for every target or alert rule: usable in rules and dashboards. */
export const PROMETHEUS_SYNTHETIC_METRICS: readonly string[] = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'ALERTS',
  'ALERTS_FOR_STATE',
];

/** Buckets of http_request_duration_seconds: an SLO latency threshold must be one of them. */
export const HTTP_DURATION_BUCKETS: readonly number[] = SERVICE_BUCKETS;

export const PRICE_ROUTE = SERVICE_PRICE_ROUTE;
export const SERVICE_JOB = 'price-service';

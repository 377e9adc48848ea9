/**
 * Every metric family the service exports on :8001 (service/src/observability/metrics.ts plus prom-client's default
 * metrics), as declared by the `# TYPE` lines: a histogram is listed once, without its _bucket/_count/_sum.
 *
 * Hard-coded so the static tests (alert-rules, dashboards) run without starting anything, and kept honest by
 * live-metrics.test.ts: it scrapes the real clustered service and fails when this list and the scrape differ
 * either way. So a renamed metric breaks the monitoring tests instead of silently emptying a panel.
 *
 * Not listed: process_start_time_seconds. prom-client's cluster aggregation omits it (aggregator 'omit':
 * start times of several processes do not add up), so the clustered service never exports it.
 */
export const KNOWN_METRICS: readonly string[] = [
  // HTTP
  'http_request_duration_seconds',
  'http_open_connections',
  'http_connections_dropped_total',
  'http_rejected_requests_total',
  'rate_limit_decisions_total',
  'rate_limit_identity_fallbacks_total',
  // Price serving and caching
  'price_responses_total',
  'price_cache_lookups_total',
  'price_age_seconds',
  'redis_errors_total',
  'redis_connection_up',
  // Price streams (server-sent events)
  'price_stream_subscribers',
  'price_stream_events_sent_total',
  'price_stream_subscribers_dropped_total',
  'price_stream_fanout_seconds',
  // Upstream exchanges
  'upstream_request_duration_seconds',
  'upstream_requests_total',
  'upstream_retries_total',
  'upstream_circuit_state',
  // Aggregation
  'price_source_up',
  'price_source_deviation_ratio',
  'price_source_rejections_total',
  'price_quorum_sources',
  'price_quorum_min_sources',
  'price_sources_configured',
  'price_refresh_rounds_total',
  'price_last_published_timestamp_seconds',
  'price_refresh_leases_total',
  // Cluster and build
  'cluster_worker_restarts_total',
  'cluster_workers_alive',
  'app_info',
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
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export const PRICE_ROUTE = '/api/v1/prices/:pair';
export const SERVICE_JOB = 'price-service';

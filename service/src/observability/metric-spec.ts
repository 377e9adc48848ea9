/**
 * Every metric the service exports, as data: name, type, help, labels, buckets, how the cluster primary
 * aggregates it over workers, and which label values exist at 0 from the start (so panels show 0, not "No
 * data", and ratios are 0 rather than empty). Registration and zero-initialisation are built from this
 * table (metrics.ts); docs/monitoring.md and the dashboards' checks read the same names. Base units,
 * `_seconds` and `_total` suffixes, small label sets: the primary aggregates every worker's registry on
 * each scrape, and high cardinality would choke it.
 */

/**
 * The label vocabularies known at start. Each lives with the concept it describes (the composition root
 * gathers them: composition/metric-vocabulary.ts); `pairs` and `sources` come from the configuration.
 */
export interface Vocabulary {
  readonly pairs: readonly string[];
  readonly sources: readonly string[];
  readonly upstreamOutcomes: readonly string[];
  readonly sourceRejections: readonly string[];
  readonly priceResponses: readonly string[];
  readonly refreshResults: readonly string[];
  readonly leaseResults: readonly string[];
  readonly redisOperations: readonly string[];
  readonly rejectReasons: readonly string[];
  readonly rateLimitResults: readonly string[];
  readonly streamDropReasons: readonly string[];
  readonly streamEventTypes: readonly string[];
  readonly cacheTiers: readonly string[];
  readonly cacheResults: readonly string[];
  readonly historyAppendResults: readonly string[];
}

export interface MetricSpec {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels?: readonly string[];
  readonly buckets?: readonly number[];
  /** How the primary combines the workers' values (prom-client's default is sum). */
  readonly aggregator?: 'sum' | 'max' | 'min';
  /** Label → vocabulary: every combination of their values is exported at 0 from the start. */
  readonly zero?: Readonly<Record<string, keyof Vocabulary>>;
  /** Touched by every price request: the allocation-free variant (hot-metrics.ts). */
  readonly hot?: boolean;
}

/** The SLO thresholds (monitoring/slo/slos.yml) are exact bucket boundaries: 0.05, 0.1, 0.25, 0.5 and 1 s. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const UPSTREAM_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/**
 * Fan-out of one snapshot to every subscriber of a worker: sub-millisecond for a few, tens to hundreds of
 * milliseconds at thousands per worker (one socket write each), seconds on a starved machine. Fine steps
 * from 50 ms to 2.5 s: between two coarse bounds an interpolated quantile says little, and make bench
 * compares the service's fan-out with a bare one's in these same buckets.
 */
const STREAM_FANOUT_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4,
  0.5, 0.75, 1, 1.5, 2.5,
];

/** From a write right after publishing to one after a long store outage. */
const HISTORY_WRITE_LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800];

export const METRICS = {
  httpDuration: {
    name: 'http_request_duration_seconds',
    type: 'histogram',
    help: 'Duration of HTTP requests from the first byte read to the last byte written, by route template, method and status code.',
    labels: ['route', 'method', 'status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    hot: true,
  },
  priceResponses: {
    name: 'price_responses_total',
    type: 'counter',
    help: 'Price responses by pair and price status (ok, degraded, stale, unavailable, not_modified).',
    labels: ['pair', 'status'],
    zero: { pair: 'pairs', status: 'priceResponses' },
    hot: true,
  },
  cacheLookups: {
    name: 'price_cache_lookups_total',
    type: 'counter',
    help: 'Cache lookups by tier (l1 in-process, l2 Redis) and result (hit, miss, error, rejected: a malformed value refused).',
    labels: ['tier', 'result'],
    zero: { tier: 'cacheTiers', result: 'cacheResults' },
    hot: true,
  },
  priceAge: {
    name: 'price_age_seconds',
    type: 'gauge',
    help: 'Age of the price each worker would serve now, measured from the oldest source timestamp behind it (max over workers).',
    labels: ['pair'],
    aggregator: 'max',
  },
  redisErrors: {
    name: 'redis_errors_total',
    type: 'counter',
    help: 'Redis commands that failed or timed out, by operation. The service keeps serving from L1 and upstream.',
    labels: ['operation'],
    zero: { operation: 'redisOperations' },
  },
  redisUp: {
    name: 'redis_connection_up',
    type: 'gauge',
    help: '1 when this process has a ready Redis connection, 0 when not (min over processes); absent when Redis is not configured.',
    aggregator: 'min',
  },
  upstreamDuration: {
    name: 'upstream_request_duration_seconds',
    type: 'histogram',
    help: 'Duration of a fetch from an exchange, retries included, by source and outcome.',
    labels: ['source', 'outcome'],
    buckets: UPSTREAM_DURATION_BUCKETS,
  },
  upstreamRequests: {
    name: 'upstream_requests_total',
    type: 'counter',
    help: 'Fetches from exchanges by source and outcome (success, http_error, timeout, unreachable, invalid_body, body_error, rate_limited, circuit_open, cooling_down).',
    labels: ['source', 'outcome'],
    zero: { source: 'sources', outcome: 'upstreamOutcomes' },
  },
  upstreamRetries: {
    name: 'upstream_retries_total',
    type: 'counter',
    help: 'HTTP retries of exchange requests (network errors, 5xx, 429), by source.',
    labels: ['source'],
    zero: { source: 'sources' },
  },
  breakerState: {
    name: 'upstream_circuit_state',
    type: 'gauge',
    help: 'Circuit breaker state per source: 0 closed, 1 half-open, 2 open (max over processes).',
    labels: ['source'],
    aggregator: 'max',
  },
  sourceUp: {
    name: 'price_source_up',
    type: 'gauge',
    help: '1 when the source contributed to the last aggregation round (state used), else 0.',
    labels: ['pair', 'source'],
    aggregator: 'max',
  },
  sourceDeviation: {
    name: 'price_source_deviation_ratio',
    type: 'gauge',
    help: "Distance of the source's mid from the cross-source median in the last round, as a ratio (0.001 = 10 bps).",
    labels: ['pair', 'source'],
    aggregator: 'max',
  },
  sourceRejections: {
    name: 'price_source_rejections_total',
    type: 'counter',
    help: 'Quotes left out of an aggregation round, by reason (rejected_outlier, stale, error, circuit_open, rate_limited).',
    labels: ['pair', 'source', 'reason'],
    zero: { pair: 'pairs', source: 'sources', reason: 'sourceRejections' },
  },
  quorumUsed: {
    name: 'price_quorum_sources',
    type: 'gauge',
    help: 'Sources accepted in the last aggregation round.',
    labels: ['pair'],
    aggregator: 'max',
  },
  quorumMin: {
    name: 'price_quorum_min_sources',
    type: 'gauge',
    help: 'Minimum number of accepted sources needed to publish a new price (MIN_QUORUM).',
    aggregator: 'max',
  },
  sourcesConfigured: {
    name: 'price_sources_configured',
    type: 'gauge',
    help: 'Number of configured sources (SOURCES).',
    aggregator: 'max',
  },
  refreshRounds: {
    name: 'price_refresh_rounds_total',
    type: 'counter',
    help: 'Aggregation rounds by result: published (quorum met) or no_quorum (the last good price is kept).',
    labels: ['pair', 'result'],
    zero: { pair: 'pairs', result: 'refreshResults' },
  },
  lastPublished: {
    name: 'price_last_published_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the last aggregation round that met the quorum.',
    labels: ['pair'],
    aggregator: 'max',
  },
  leases: {
    name: 'price_refresh_leases_total',
    type: 'counter',
    help: 'Cluster-wide single-flight leases per source: acquired (this replica fetched), held_elsewhere (read the shared result), unavailable (Redis down: fetched locally).',
    labels: ['source', 'result'],
    zero: { source: 'sources', result: 'leaseResults' },
  },
  workerRestarts: {
    name: 'cluster_worker_restarts_total',
    type: 'counter',
    help: 'Workers that exited unexpectedly and were forked again by the primary.',
    zero: {},
  },
  workersAlive: {
    name: 'cluster_workers_alive',
    type: 'gauge',
    help: 'Workers currently alive in this replica.',
    aggregator: 'max',
  },
  info: {
    name: 'app_info',
    type: 'gauge',
    help: 'Build information; always 1.',
    labels: ['version', 'node_version'],
    aggregator: 'max',
  },
  rateLimitDecisions: {
    name: 'rate_limit_decisions_total',
    type: 'counter',
    help: 'Per-client rate limit decisions on /api/: allowed, limited (answered 429), error (the store failed: let through), overflow (the in-memory store was full for the window and the client new: let through uncounted).',
    labels: ['result'],
    zero: { result: 'rateLimitResults' },
  },
  rateLimitIdentityFallbacks: {
    name: 'rate_limit_identity_fallbacks_total',
    type: 'counter',
    help: 'Requests whose X-Forwarded-For entry was no address (even without port, brackets and quotes): the client was taken to be the last trusted hop.',
    zero: {},
  },
  rejectedRequests: {
    name: 'http_rejected_requests_total',
    type: 'counter',
    help: 'Requests answered before any route, by reason (bad_request, header_fields_too_large, request_timeout, payload_too_large, expectation_failed, method_not_allowed, server_busy).',
    labels: ['reason'],
    zero: { reason: 'rejectReasons' },
  },
  connectionsDropped: {
    name: 'http_connections_dropped_total',
    type: 'counter',
    help: 'Connections refused on accept because the worker already had MAX_CONNECTIONS_PER_WORKER open: answered 503 at their first request (http_rejected_requests_total reason server_busy) or, past 64 at once or after 1 s, closed.',
  },
  openConnections: {
    name: 'http_open_connections',
    type: 'gauge',
    help: 'Open client connections to the API port (sum over workers).',
    aggregator: 'sum',
  },
  streamSubscribers: {
    name: 'price_stream_subscribers',
    type: 'gauge',
    help: 'Open price streams (GET /api/v1/prices/{pair}/stream), sum over workers.',
    aggregator: 'sum',
  },
  streamEvents: {
    name: 'price_stream_events_sent_total',
    type: 'counter',
    help: 'Events written to price stream subscribers, one per subscriber, by type (price, status, heartbeat).',
    labels: ['type'],
    zero: { type: 'streamEventTypes' },
  },
  streamDropped: {
    name: 'price_stream_subscribers_dropped_total',
    type: 'counter',
    help: 'Price streams ended by the server, by reason: backpressure (the client did not read: more than STREAM_MAX_BUFFERED_BYTES unsent), lifetime (STREAM_MAX_LIFETIME_MS), draining (shutdown).',
    labels: ['reason'],
    zero: { reason: 'streamDropReasons' },
  },
  streamFanout: {
    name: 'price_stream_fanout_seconds',
    type: 'histogram',
    help: "Time from a snapshot reaching a worker's stream to the last subscriber's socket write, per snapshot and worker.",
    buckets: STREAM_FANOUT_BUCKETS,
  },
  historyPointsWritten: {
    name: 'price_history_points_written_total',
    type: 'counter',
    help: 'Price history points appended to the history store, by pair and result: written, or duplicate (already stored by another replica for that round).',
    labels: ['pair', 'result'],
    zero: { pair: 'pairs', result: 'historyAppendResults' },
  },
  historyWriteFailures: {
    name: 'price_history_write_failures_total',
    type: 'counter',
    help: 'Failed attempts to append a price history point (the store unreachable or failing); the point is kept and retried.',
    labels: ['pair'],
    zero: { pair: 'pairs' },
  },
  historyPointsDropped: {
    name: 'price_history_points_dropped_total',
    type: 'counter',
    help: 'Price history points dropped unwritten because HISTORY_PENDING_MAX_POINTS were already held during a store outage.',
    labels: ['pair'],
    zero: { pair: 'pairs' },
  },
  historyPointsPending: {
    name: 'price_history_points_pending',
    type: 'gauge',
    help: 'Price history points held in memory, waiting to be written (non-zero during a store outage).',
    aggregator: 'sum',
  },
  historyWriteLag: {
    name: 'price_history_write_lag_seconds',
    type: 'histogram',
    help: 'Time from a snapshot being published to its price history point being stored (long after an outage).',
    buckets: HISTORY_WRITE_LAG_BUCKETS,
  },
  historyOldestPoint: {
    name: 'price_history_oldest_point_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the oldest price history point kept, by pair: how far back the fine history reaches.',
    labels: ['pair'],
    aggregator: 'min',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Every combination of the label values a spec's `zero` names (one empty set for a label-less metric). */
export function zeroSeries(spec: MetricSpec, vocabulary: Vocabulary): Record<string, string>[] {
  if (spec.zero === undefined) return [];
  let combos: Record<string, string>[] = [{}];
  for (const [label, key] of Object.entries(spec.zero)) {
    combos = combos.flatMap((combo) => vocabulary[key].map((value) => ({ ...combo, [label]: value })));
  }
  return combos;
}

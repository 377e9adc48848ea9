import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createHotCounter, createHotHistogram, type HistogramObserver } from './hot-metrics';

/**
 * Every metric the service exports, in one place so dashboards and alerts have one list to match
 * (docs/monitoring.md). Base units, `_seconds` and `_total` suffixes, small label sets: the cluster primary
 * aggregates every worker's registry on each scrape and high cardinality would choke it.
 *
 * The SLO thresholds (docs/monitoring.md) are exact bucket boundaries: 0.05, 0.1, 0.25, 0.5 and 1 s.
 */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const UPSTREAM_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type CacheTier = 'l1' | 'l2';
export type CacheResult = 'hit' | 'miss' | 'error' | 'rejected';
export type BreakerState = 'closed' | 'half_open' | 'open';
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Label values known up front: their series are exported at 0 from the start, so panels show 0, not "No data". */
export const UPSTREAM_OUTCOMES = [
  'success',
  'http_error',
  'timeout',
  'unreachable',
  'invalid_body',
  'body_error',
  'rate_limited',
  'circuit_open',
  'cooling_down',
] as const;
export const REJECTION_REASONS = [
  'rejected_outlier',
  'stale',
  'error',
  'circuit_open',
  'rate_limited',
] as const;
export const PRICE_RESPONSE_STATUSES = ['ok', 'degraded', 'stale', 'unavailable', 'not_modified'] as const;
const REFRESH_RESULTS = ['published', 'no_quorum'] as const;
const LEASE_RESULTS = ['acquired', 'held_elsewhere', 'unavailable'] as const;
const REDIS_OPERATIONS = [
  'get_snapshot',
  'put_snapshot',
  'get_source_result',
  'put_source_result',
  'acquire_lease',
] as const;
/** Why a request was turned away before reaching a route (presentation/request-guard.ts). */
export const REJECT_REASONS = [
  'bad_request',
  'header_fields_too_large',
  'request_timeout',
  'payload_too_large',
  'expectation_failed',
  'method_not_allowed',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];
export const RATE_LIMIT_RESULTS = ['allowed', 'limited', 'error', 'overflow'] as const;
export type RateLimitResult = (typeof RATE_LIMIT_RESULTS)[number];
/** Why a price stream was ended by the server (presentation/price-stream.ts). */
export const STREAM_DROP_REASONS = ['backpressure', 'lifetime', 'draining'] as const;
export type StreamDropReason = (typeof STREAM_DROP_REASONS)[number];
export const STREAM_EVENT_TYPES = ['price', 'status', 'heartbeat'] as const;
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];
/** Fan-out of one snapshot to every subscriber of a worker: sub-millisecond to the 50 ms target and past it. */
const STREAM_FANOUT_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

export interface PriceAgeProvider {
  /** Age in seconds of the price this process would serve now for the pair, or undefined if none. */
  (pair: string): number | undefined;
}

export function createMetrics(options: {
  registry?: Registry;
  defaultMetrics?: boolean;
  pairs: readonly string[];
  /** Configured sources, for the series initialised at 0; none when omitted. */
  sources?: readonly string[];
  /** Whether Redis is configured: without it the Redis gauge is not exported at all (not a false 0). */
  redis?: boolean;
}) {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let priceAgeProvider: PriceAgeProvider | undefined;

  // The three metrics touched by every price request use the allocation-free hot variants.
  const httpDuration = createHotHistogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests from the first byte read to the last byte written, by route template, method and status code.',
    buckets: HTTP_DURATION_BUCKETS,
    registry,
  });
  const priceServed = createHotCounter({
    name: 'price_responses_total',
    help: 'Price responses by pair and price status (ok, degraded, stale, unavailable, not_modified).',
    registry,
  });
  const cacheLookups = createHotCounter({
    name: 'price_cache_lookups_total',
    help: 'Cache lookups by tier (l1 in-process, l2 Redis) and result (hit, miss, error, rejected: a malformed value refused).',
    registry,
  });
  new Gauge({
    name: 'price_age_seconds',
    help: 'Age of the price each worker would serve now, measured from the oldest source timestamp behind it (max over workers).',
    labelNames: ['pair'] as const,
    aggregator: 'max',
    registers,
    collect() {
      // Reset first: a pair whose price has expired from L1 must disappear, not freeze at its last age.
      this.reset();
      if (!priceAgeProvider) return;
      for (const pair of options.pairs) {
        const age = priceAgeProvider(pair);
        if (age !== undefined) this.set({ pair }, age);
      }
    },
  });
  const bindCache = (tier: CacheTier) => ({
    hit: cacheLookups.bind({ tier, result: 'hit' }),
    miss: cacheLookups.bind({ tier, result: 'miss' }),
    error: cacheLookups.bind({ tier, result: 'error' }),
    rejected: cacheLookups.bind({ tier, result: 'rejected' }),
  });
  const cacheChildren = { l1: bindCache('l1'), l2: bindCache('l2') };
  const redisErrors = new Counter({
    name: 'redis_errors_total',
    help: 'Redis commands that failed or timed out, by operation. The service keeps serving from L1 and upstream.',
    labelNames: ['operation'] as const,
    registers,
  });
  const redisUp = new Gauge({
    name: 'redis_connection_up',
    help: '1 when this process has a ready Redis connection, 0 when not (min over processes); absent when Redis is not configured.',
    aggregator: 'min',
    registers: options.redis === false ? [] : registers,
  });
  const upstreamDuration = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Duration of a fetch from an exchange, retries included, by source and outcome.',
    labelNames: ['source', 'outcome'] as const,
    buckets: UPSTREAM_DURATION_BUCKETS,
    registers,
  });
  const upstreamRequests = new Counter({
    name: 'upstream_requests_total',
    help: 'Fetches from exchanges by source and outcome (success, http_error, timeout, unreachable, invalid_body, body_error, rate_limited, circuit_open, cooling_down).',
    labelNames: ['source', 'outcome'] as const,
    registers,
  });
  const upstreamRetries = new Counter({
    name: 'upstream_retries_total',
    help: 'HTTP retries of exchange requests (network errors, 5xx, 429), by source.',
    labelNames: ['source'] as const,
    registers,
  });
  const breakerState = new Gauge({
    name: 'upstream_circuit_state',
    help: 'Circuit breaker state per source: 0 closed, 1 half-open, 2 open (max over processes).',
    labelNames: ['source'] as const,
    aggregator: 'max',
    registers,
  });
  const sourceState = new Gauge({
    name: 'price_source_up',
    help: '1 when the source contributed to the last aggregation round (state used), else 0.',
    labelNames: ['pair', 'source'] as const,
    aggregator: 'max',
    registers,
  });
  const sourceDeviation = new Gauge({
    name: 'price_source_deviation_ratio',
    help: "Distance of the source's mid from the cross-source median in the last round, as a ratio (0.001 = 10 bps).",
    labelNames: ['pair', 'source'] as const,
    aggregator: 'max',
    registers,
  });
  const sourceRejections = new Counter({
    name: 'price_source_rejections_total',
    help: 'Quotes left out of an aggregation round, by reason (rejected_outlier, stale, error, circuit_open, rate_limited).',
    labelNames: ['pair', 'source', 'reason'] as const,
    registers,
  });
  const quorumUsed = new Gauge({
    name: 'price_quorum_sources',
    help: 'Sources accepted in the last aggregation round.',
    labelNames: ['pair'] as const,
    aggregator: 'max',
    registers,
  });
  const quorumMin = new Gauge({
    name: 'price_quorum_min_sources',
    help: 'Minimum number of accepted sources needed to publish a new price (MIN_QUORUM).',
    aggregator: 'max',
    registers,
  });
  const sourcesConfigured = new Gauge({
    name: 'price_sources_configured',
    help: 'Number of configured sources (SOURCES).',
    aggregator: 'max',
    registers,
  });
  const refreshRounds = new Counter({
    name: 'price_refresh_rounds_total',
    help: 'Aggregation rounds by result: published (quorum met) or no_quorum (the last good price is kept).',
    labelNames: ['pair', 'result'] as const,
    registers,
  });
  const lastPublished = new Gauge({
    name: 'price_last_published_timestamp_seconds',
    help: 'Unix time of the last aggregation round that met the quorum.',
    labelNames: ['pair'] as const,
    aggregator: 'max',
    registers,
  });
  const leases = new Counter({
    name: 'price_refresh_leases_total',
    help: 'Cluster-wide single-flight leases per source: acquired (this replica fetched), held_elsewhere (read the shared result), unavailable (Redis down: fetched locally).',
    labelNames: ['source', 'result'] as const,
    registers,
  });
  const workerRestarts = new Counter({
    name: 'cluster_worker_restarts_total',
    help: 'Workers that exited unexpectedly and were forked again by the primary.',
    registers,
  });
  const workersAlive = new Gauge({
    name: 'cluster_workers_alive',
    help: 'Workers currently alive in this replica.',
    aggregator: 'max',
    registers,
  });
  const info = new Gauge({
    name: 'app_info',
    help: 'Build information; always 1.',
    labelNames: ['version', 'node_version'] as const,
    aggregator: 'max',
    registers,
  });
  info.set({ version: process.env.npm_package_version ?? '0.1.0', node_version: process.version }, 1);
  const rateLimitDecisions = new Counter({
    name: 'rate_limit_decisions_total',
    help: 'Per-client rate limit decisions on /api/: allowed, limited (answered 429), error (the store failed: let through), overflow (the in-memory store was full for the window and the client new: let through uncounted).',
    labelNames: ['result'] as const,
    registers,
  });
  const rateLimitIdentityFallbacks = new Counter({
    name: 'rate_limit_identity_fallbacks_total',
    help: 'Requests whose X-Forwarded-For entry was no address (even without port, brackets and quotes): the client was taken to be the last trusted hop.',
    registers,
  });
  const rejectedRequests = new Counter({
    name: 'http_rejected_requests_total',
    help: 'Requests answered before any route, by reason (bad_request, header_fields_too_large, request_timeout, payload_too_large, expectation_failed, method_not_allowed).',
    labelNames: ['reason'] as const,
    registers,
  });
  const connectionsDropped = new Counter({
    name: 'http_connections_dropped_total',
    help: 'Connections closed on accept because the worker already had MAX_CONNECTIONS_PER_WORKER open.',
    registers,
  });
  let openConnections: (() => number) | undefined;
  new Gauge({
    name: 'http_open_connections',
    help: 'Open client connections to the API port (sum over workers).',
    aggregator: 'sum',
    registers,
    collect() {
      this.set(openConnections?.() ?? 0);
    },
  });

  let streamSubscriberCount = 0;
  new Gauge({
    name: 'price_stream_subscribers',
    help: 'Open price streams (GET /api/v1/prices/{pair}/stream), sum over workers.',
    aggregator: 'sum',
    registers,
    collect() {
      this.set(streamSubscriberCount);
    },
  });
  const streamEvents = new Counter({
    name: 'price_stream_events_sent_total',
    help: 'Events written to price stream subscribers, one per subscriber, by type (price, status, heartbeat).',
    labelNames: ['type'] as const,
    registers,
  });
  const streamDropped = new Counter({
    name: 'price_stream_subscribers_dropped_total',
    help: 'Price streams ended by the server, by reason: backpressure (the client did not read: more than STREAM_MAX_BUFFERED_BYTES unsent), lifetime (STREAM_MAX_LIFETIME_MS), draining (shutdown).',
    labelNames: ['reason'] as const,
    registers,
  });
  const streamFanout = new Histogram({
    name: 'price_stream_fanout_seconds',
    help: "Time from a snapshot reaching a worker's stream to the last subscriber's socket write, per snapshot and worker.",
    buckets: STREAM_FANOUT_BUCKETS,
    registers,
  });
  for (const type of STREAM_EVENT_TYPES) streamEvents.inc({ type }, 0);
  for (const reason of STREAM_DROP_REASONS) streamDropped.inc({ reason }, 0);
  const streamEventChildren = {
    price: streamEvents.labels({ type: 'price' }),
    status: streamEvents.labels({ type: 'status' }),
    heartbeat: streamEvents.labels({ type: 'heartbeat' }),
  };
  const streamDroppedChildren = {
    backpressure: streamDropped.labels({ reason: 'backpressure' }),
    lifetime: streamDropped.labels({ reason: 'lifetime' }),
    draining: streamDropped.labels({ reason: 'draining' }),
  };

  const sources = options.sources ?? [];
  for (const source of sources) {
    for (const outcome of UPSTREAM_OUTCOMES) upstreamRequests.inc({ source, outcome }, 0);
    for (const result of LEASE_RESULTS) leases.inc({ source, result }, 0);
    upstreamRetries.inc({ source }, 0);
  }
  for (const pair of options.pairs) {
    for (const result of REFRESH_RESULTS) refreshRounds.inc({ pair, result }, 0);
    for (const source of sources) {
      for (const reason of REJECTION_REASONS) sourceRejections.inc({ pair, source, reason }, 0);
    }
  }
  if (options.redis === true) for (const operation of REDIS_OPERATIONS) redisErrors.inc({ operation }, 0);
  for (const result of RATE_LIMIT_RESULTS) rateLimitDecisions.inc({ result }, 0);
  rateLimitIdentityFallbacks.inc(0);
  for (const reason of REJECT_REASONS) rejectedRequests.inc({ reason }, 0);
  const rateLimitChildren = {
    allowed: rateLimitDecisions.labels({ result: 'allowed' }),
    limited: rateLimitDecisions.labels({ result: 'limited' }),
    error: rateLimitDecisions.labels({ result: 'error' }),
    overflow: rateLimitDecisions.labels({ result: 'overflow' }),
  };

  return {
    registry,
    setPriceAgeProvider(provider: PriceAgeProvider) {
      priceAgeProvider = provider;
    },
    /**
     * Bound observer for one route and method: children are created once per status code, not per request.
     * `traceId`, given only for sampled requests, becomes the exemplar of the latency bucket.
     */
    httpObserver(
      route: string,
      method: string,
      /** Exported at 0 from the start: an SLO's 5xx ratio is then 0, not empty (the route table says which). */
      knownStatuses: readonly number[] = [],
    ) {
      const children = new Map<number, HistogramObserver>();
      for (const code of knownStatuses) {
        children.set(code, httpDuration.bind({ route, method, status_code: String(code) }));
      }
      return (statusCode: number, seconds: number, traceId?: string) => {
        let observe = children.get(statusCode);
        if (observe === undefined) {
          observe = httpDuration.bind({ route, method, status_code: String(statusCode) });
          children.set(statusCode, observe);
        }
        observe(seconds, traceId);
      };
    },
    priceServedCounter(pair: string) {
      const children = new Map<string, () => void>();
      for (const status of PRICE_RESPONSE_STATUSES) children.set(status, priceServed.bind({ pair, status }));
      return (status: string) => {
        let inc = children.get(status);
        if (inc === undefined) {
          inc = priceServed.bind({ pair, status });
          children.set(status, inc);
        }
        inc();
      };
    },
    /** Children bound once: this runs on every request. */
    cacheLookup(tier: CacheTier, result: CacheResult) {
      cacheChildren[tier][result]();
    },
    redisError(operation: string) {
      redisErrors.inc({ operation });
    },
    redisConnection(up: boolean) {
      redisUp.set(up ? 1 : 0);
    },
    upstreamFetch(source: string, outcome: string, seconds: number) {
      upstreamRequests.inc({ source, outcome });
      upstreamDuration.observe({ source, outcome }, seconds);
    },
    upstreamRetry(source: string) {
      upstreamRetries.inc({ source });
    },
    breaker(source: string, state: BreakerState) {
      breakerState.set({ source }, BREAKER_VALUE[state]);
    },
    aggregationRound(
      pair: string,
      published: boolean,
      used: number,
      sources: readonly { exchange: string; state: string; deviationBps?: string }[],
    ) {
      refreshRounds.inc({ pair, result: published ? 'published' : 'no_quorum' });
      quorumUsed.set({ pair }, used);
      if (published) lastPublished.set({ pair }, Date.now() / 1000);
      for (const s of sources) {
        sourceState.set({ pair, source: s.exchange }, s.state === 'used' ? 1 : 0);
        // A gauge, so a float is fine here: this number is never served, only plotted.
        if (s.deviationBps !== undefined)
          sourceDeviation.set({ pair, source: s.exchange }, Number(`${s.deviationBps}e-4`));
        else sourceDeviation.remove({ pair, source: s.exchange }); // a failed source has no deviation now
        if (s.state !== 'used') sourceRejections.inc({ pair, source: s.exchange, reason: s.state });
      }
    },
    quorumConfig(min: number, configured: number) {
      quorumMin.set(min);
      sourcesConfigured.set(configured);
    },
    lease(source: string, result: 'acquired' | 'held_elsewhere' | 'unavailable') {
      leases.inc({ source, result });
    },
    workerRestarted() {
      workerRestarts.inc();
    },
    workersAlive(count: number) {
      workersAlive.set(count);
    },
    rateLimitDecision(result: RateLimitResult) {
      rateLimitChildren[result].inc();
    },
    rateLimitIdentityFallback() {
      rateLimitIdentityFallbacks.inc();
    },
    requestRejected(reason: RejectReason) {
      rejectedRequests.inc({ reason });
    },
    connectionDropped() {
      connectionsDropped.inc();
    },
    setOpenConnectionsProvider(provider: () => number) {
      openConnections = provider;
    },
    streamSubscribers(count: number) {
      streamSubscriberCount = count;
    },
    streamEventsSent(type: StreamEventType, count: number) {
      if (count > 0) streamEventChildren[type].inc(count);
    },
    streamDropped(reason: StreamDropReason) {
      streamDroppedChildren[reason].inc();
    },
    streamFanout(seconds: number) {
      streamFanout.observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createHotCounter, createHotHistogram, type HistogramObserver } from './hot-metrics';
import { SERVICE_VERSION } from '../version';
import { METRICS, zeroSeries, type MetricSpec, type Vocabulary } from './metric-spec';

export { HTTP_DURATION_BUCKETS } from './metric-spec';

const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
export type BreakerState = keyof typeof BREAKER_VALUE;

export interface PriceAgeProvider {
  /** Age in seconds of the price this process would serve now, for the pair, or undefined if none. */
  (pair: string): number | undefined;
}

const EMPTY: Vocabulary = {
  pairs: [],
  sources: [],
  upstreamOutcomes: [],
  sourceRejections: [],
  priceResponses: [],
  refreshResults: [],
  leaseResults: [],
  redisOperations: [],
  rejectReasons: [],
  rateLimitResults: [],
  streamDropReasons: [],
  streamEventTypes: [],
  cacheTiers: [],
  cacheResults: [],
  historyAppendResults: [],
};

/** A prom-client metric built from its spec, registered, its known series at 0. */
function register(
  spec: MetricSpec,
  registers: Registry[],
  vocabulary: Vocabulary,
  collect?: (this: Gauge) => void,
) {
  const common = { name: spec.name, help: spec.help, labelNames: spec.labels ?? [], registers };
  const aggregator = spec.aggregator === undefined ? {} : { aggregator: spec.aggregator };
  if (spec.type === 'counter') {
    const counter = new Counter({ ...common, ...aggregator });
    for (const labels of zeroSeries(spec, vocabulary)) counter.inc(labels, 0);
    return counter;
  }
  if (spec.type === 'gauge') return new Gauge({ ...common, ...aggregator, ...(collect && { collect }) });
  return new Histogram({ ...common, ...aggregator, buckets: [...(spec.buckets ?? [])] });
}

/**
 * prom-client's default metrics, less the non-counters it names `_total` (nodejs_active_handles_total,
 * _requests_total, _resources_total: gauges, the sums of the per-type nodejs_active_handles and friends).
 * Prometheus keeps `_total` for counters and `promtool check metrics` fails a scrape on them, so a team
 * linting its scrapes would fail on this service; `sum(nodejs_active_handles)` gives the same number.
 */
function collectDefaultMetricsNamedAsPrometheusWants(registry: Registry): void {
  // The event-loop lag at prom-client's default precision (observability/event-loop-monitor.ts says why).
  collectDefaultMetrics({ register: registry });
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    if (name.endsWith('_total') && type !== 'counter') registry.removeSingleMetric(name);
  }
}

/**
 * The service's metrics, registered from the spec (metric-spec.ts), and the few recording functions the
 * rest of the code calls. The three metrics touched by every price request use the allocation-free hot
 * variants; every other one is a prom-client metric.
 */
export function createMetrics(options: {
  registry?: Registry;
  defaultMetrics?: boolean;
  /** The label values known at start (composition/metric-vocabulary.ts); missing lists mean none. */
  vocabulary?: Partial<Vocabulary>;
  /** Whether Redis is configured: without it the Redis gauge is not exported at all (not a false 0). */
  redis?: boolean;
}) {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetricsNamedAsPrometheusWants(registry);
  const vocabulary: Vocabulary = { ...EMPTY, ...options.vocabulary };
  const registers = [registry];
  const counter = (spec: MetricSpec) => register(spec, registers, vocabulary) as Counter;
  const gauge = (spec: MetricSpec, collect?: (this: Gauge) => void, into = registers) =>
    register(spec, into, vocabulary, collect) as Gauge;
  const histogram = (spec: MetricSpec) => register(spec, registers, vocabulary) as Histogram;

  const httpDuration = createHotHistogram({ ...METRICS.httpDuration, registry });
  const priceServed = createHotCounter({ ...METRICS.priceResponses, registry });
  const cacheLookups = createHotCounter({ ...METRICS.cacheLookups, registry });
  for (const labels of zeroSeries(METRICS.priceResponses, vocabulary)) priceServed.bind(labels);
  // tier → result → increment, bound at start: a lookup on the hot path allocates nothing.
  const cacheChildren = new Map<string, Map<string, () => void>>();
  const bindCache = (tier: string, result: string) => {
    let byResult = cacheChildren.get(tier);
    if (byResult === undefined) cacheChildren.set(tier, (byResult = new Map()));
    const inc = cacheLookups.bind({ tier, result });
    byResult.set(result, inc);
    return inc;
  };
  for (const { tier, result } of zeroSeries(METRICS.cacheLookups, vocabulary)) bindCache(tier!, result!);

  let priceAgeProvider: PriceAgeProvider | undefined;
  gauge(METRICS.priceAge, function () {
    // Reset first: a pair whose price has expired from L1 must disappear, not freeze at its last age.
    this.reset();
    if (!priceAgeProvider) return;
    for (const pair of vocabulary.pairs) {
      const age = priceAgeProvider(pair);
      if (age !== undefined) this.set({ pair }, age);
    }
  });
  const redisErrors = counter(METRICS.redisErrors);
  const redisUp = gauge(METRICS.redisUp, undefined, options.redis === false ? [] : registers);
  const upstreamDuration = histogram(METRICS.upstreamDuration);
  const upstreamRequests = counter(METRICS.upstreamRequests);
  const upstreamRetries = counter(METRICS.upstreamRetries);
  const breakerState = gauge(METRICS.breakerState);
  const sourceUp = gauge(METRICS.sourceUp);
  const sourceDeviation = gauge(METRICS.sourceDeviation);
  const sourceRejections = counter(METRICS.sourceRejections);
  const quorumUsed = gauge(METRICS.quorumUsed);
  const quorumMin = gauge(METRICS.quorumMin);
  const sourcesConfigured = gauge(METRICS.sourcesConfigured);
  const refreshRounds = counter(METRICS.refreshRounds);
  const lastPublished = gauge(METRICS.lastPublished);
  const leases = counter(METRICS.leases);
  const workerRestarts = counter(METRICS.workerRestarts);
  const workersAlive = gauge(METRICS.workersAlive);
  gauge(METRICS.info).set({ version: SERVICE_VERSION, node_version: process.version }, 1);
  const rateLimitDecisions = counter(METRICS.rateLimitDecisions);
  const rateLimitIdentityFallbacks = counter(METRICS.rateLimitIdentityFallbacks);
  const rejectedRequests = counter(METRICS.rejectedRequests);
  const connectionsDropped = counter(METRICS.connectionsDropped);
  let openConnections: (() => number) | undefined;
  gauge(METRICS.openConnections, function () {
    this.set(openConnections?.() ?? 0);
  });
  let streamSubscriberCount = 0;
  gauge(METRICS.streamSubscribers, function () {
    this.set(streamSubscriberCount);
  });
  const streamEvents = counter(METRICS.streamEvents);
  const streamDropped = counter(METRICS.streamDropped);
  const streamFanout = histogram(METRICS.streamFanout);
  const historyWritten = counter(METRICS.historyPointsWritten);
  const historyFailures = counter(METRICS.historyWriteFailures);
  const historyDropped = counter(METRICS.historyPointsDropped);
  const historyPending = gauge(METRICS.historyPointsPending);
  const historyWriteLag = histogram(METRICS.historyWriteLag);
  const historyOldest = gauge(METRICS.historyOldestPoint);

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
    cacheLookup(tier: string, result: string) {
      (cacheChildren.get(tier)?.get(result) ?? bindCache(tier, result))();
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
        sourceUp.set({ pair, source: s.exchange }, s.state === 'used' ? 1 : 0);
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
    lease(source: string, result: string) {
      leases.inc({ source, result });
    },
    workerRestarted() {
      workerRestarts.inc();
    },
    workersAlive(count: number) {
      workersAlive.set(count);
    },
    rateLimitDecision(result: string) {
      rateLimitDecisions.inc({ result });
    },
    rateLimitIdentityFallback() {
      rateLimitIdentityFallbacks.inc();
    },
    requestRejected(reason: string) {
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
    streamEventsSent(type: string, count: number) {
      if (count > 0) streamEvents.inc({ type }, count);
    },
    streamDropped(reason: string) {
      streamDropped.inc({ reason });
    },
    streamFanout(seconds: number) {
      streamFanout.observe(seconds);
    },
    historyWritten(pair: string, result: string) {
      historyWritten.inc({ pair, result });
    },
    historyWriteFailed(pair: string) {
      historyFailures.inc({ pair });
    },
    historyDropped(pair: string) {
      historyDropped.inc({ pair });
    },
    historyPending(count: number) {
      historyPending.set(count);
    },
    historyWriteLag(seconds: number) {
      historyWriteLag.observe(seconds);
    },
    historyOldest(pair: string, unixSeconds: number) {
      historyOldest.set({ pair }, unixSeconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

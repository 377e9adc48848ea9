import type { RequestListener } from 'node:http';
import type { SharedCacheReads } from '../application/ports';
import type { PriceHistory } from '../application/price-history';
import { createHistoryQueries } from '../application/history-queries';
import { createPriceFeed } from '../application/price-feed';
import { createPriceReader, type PriceReader } from '../application/price-reader';
import type { PriceSnapshot } from '../application/price-snapshot';
import type { Config } from '../config';
import { createMemoryCache } from '../infrastructure/cache/memory-cache';
import { createMemoryHistory } from '../infrastructure/history/memory-history';
import { createClientRateLimiter } from '../infrastructure/rate-limit/client-rate-limiter';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { historyRetention, historyRules } from './history-settings';
import { createRequestTracer } from '../observability/request-tracing';
import { createBatchPriceHandler } from '../presentation/batch-price-route';
import { createClientIdentity } from '../presentation/client-identity';
import { createRequestListener } from '../presentation/dispatch';
import { createExpressApp } from '../presentation/express-app';
import { createHealthRoutes } from '../presentation/health-routes';
import { createHistoryRoutes } from '../presentation/history-routes';
import { rawHeader } from '../presentation/http-headers';
import { createIndexRoutes } from '../presentation/index-routes';
import { LIVE_PAGE_PATHS, createLivePage } from '../presentation/live-page';
import { createPriceHandler } from '../presentation/price-route';
import { createPriceStream, type PriceStream } from '../presentation/price-stream';
import { createRateLimit } from '../presentation/rate-limit';
import { createRequestGuard, type RequestGuard } from '../presentation/request-guard';
import { UNMATCHED, createRequestObserver } from '../presentation/request-observer';
import { createRoutes } from '../presentation/routes';
import { createCors, securityHeaders } from '../presentation/security-headers';
import { createSnapshotView } from '../presentation/snapshot-view';

export interface HttpParts {
  readonly reader: PriceReader;
  readonly stream: PriceStream;
  /** A snapshot from the primary (IPC) or the local refresher: into L1, and to the stream's subscribers. */
  accept(snapshot: PriceSnapshot): void;
  readonly listener: RequestListener;
  /** What startHttpServer needs besides the listener: limits and the protocol-level error answers. */
  readonly server: {
    readonly limits: {
      headersTimeoutMs: number;
      requestTimeoutMs: number;
      maxHeaderBytes: number;
      maxConnections: number;
    };
    readonly handlers: Pick<RequestGuard, 'clientError' | 'checkExpectation' | 'connect' | 'overCapacity'>;
    readonly onConnectionDropped: () => void;
  };
  close(): Promise<void>;
}

/** The read path: L1, L2, the route table's handlers, Express behind the fast dispatcher. */
export function buildHttp(
  config: Config,
  deps: {
    metrics: Metrics;
    logger: Logger;
    shared: SharedCacheReads;
    /** The process's history (its store, or the primary's over IPC); an empty one of its own if not given. */
    history?: PriceHistory;
    /** Readiness says 503 (draining). */
    isDraining: () => boolean;
    /** Every response says `Connection: close`; without it, from when isDraining does. */
    isClosingConnections?: () => boolean;
  },
): HttpParts {
  const { metrics } = deps;
  const pairs = config.pairs.map((p) => p.slug);
  const l1 = createMemoryCache({ maxStalenessMs: config.price.maxStalenessMs });
  const reader = createPriceReader({ l1, l2: deps.shared, counters: metrics });
  const feed = createPriceFeed(reader);
  const freshness = { freshnessMs: config.price.freshnessMs, maxStalenessMs: config.price.maxStalenessMs };
  metrics.setPriceAgeProvider((pair) => {
    const price = l1.get(pair)?.price;
    return price === undefined ? undefined : (Date.now() - price.timestampMs) / 1000;
  });
  const security = securityHeaders(config.hsts);
  const cors = createCors(config.corsAllowOrigins, security);
  // Built once: every response writes this list as it is.
  const common = Object.freeze([...security, ...(cors?.staticHeaders ?? [])]);
  const view = createSnapshotView(freshness);
  const identify = createClientIdentity(
    { hops: config.rateLimit.trustedProxyHops, cidrs: config.rateLimit.trustedProxyCidrs },
    () => metrics.rateLimitIdentityFallback(),
  );
  const price = createPriceHandler({
    reader,
    view,
    freshness,
    retryAfterSeconds: Math.max(1, Math.ceil(config.price.refreshIntervalMs / 1000)),
    pairs,
    countServed: (pair) => metrics.priceServedCounter(pair),
    common,
    extraHeaders: cors !== undefined || config.rateLimit.requests > 0,
  });
  const stream = createPriceStream({
    settings: config.stream,
    reader,
    view,
    pairs,
    identify,
    common,
    retryAfterSeconds: Math.max(1, Math.ceil(config.stream.retryMs / 1000)),
    metrics,
  });
  feed.follow(stream.publish);
  const retryAfterSeconds = Math.max(1, Math.ceil(config.price.refreshIntervalMs / 1000));
  const batchPrice = createBatchPriceHandler({ reader, view, pairs, retryAfterSeconds, common });
  const history = deps.history ?? createMemoryHistory(historyRetention(config), historyRules(config));
  const historyRoutes = createHistoryRoutes({
    history,
    queries: createHistoryQueries(history, historyRules(config)),
    symbols: new Map(config.pairs.map((p) => [p.slug, p.symbol])),
    pointsRetentionMs: config.history.pointsRetentionMs,
    retryAfterSeconds,
    common,
    logger: deps.logger,
  });
  const health = createHealthRoutes({
    reader,
    freshness,
    pairs: config.pairs,
    sharedCacheStatus: () => deps.shared.status(),
    isDraining: deps.isDraining,
    common,
  });
  // The live page follows the first configured pair.
  const livePage = createLivePage({ pair: config.pairs[0] as { slug: string; symbol: string }, common });
  const routes = createRoutes({
    livePage: { paths: LIVE_PAGE_PATHS, serve: livePage.serve },
    ...createIndexRoutes({ pairs: config.pairs, common }),
    price: price.handle,
    stream: stream.handle,
    batchPrice,
    priceAt: historyRoutes.at,
    candles: historyRoutes.candles,
    twap: historyRoutes.twap,
    liveness: health.liveness,
    readiness: health.readiness,
  });
  const observerFor = createRequestObserver(metrics, routes);
  const tracer = createRequestTracer(config.traceRequestsPerSecond, (req) => rawHeader(req, 'traceparent'));
  const guard = createRequestGuard({
    maxBodyBytes: config.limits.maxBodyBytes,
    common,
    rejected: (reason) => metrics.requestRejected(reason),
    answered: (status, method, seconds) => observerFor(UNMATCHED, method)(status, seconds),
    headersTimeoutMs: config.limits.headersTimeoutMs,
  });
  const limiter =
    config.rateLimit.requests === 0
      ? undefined
      : createClientRateLimiter({
          requests: config.rateLimit.requests,
          windowSeconds: config.rateLimit.windowSeconds,
          redis:
            config.redis.topology === undefined
              ? undefined
              : {
                  topology: config.redis.topology,
                  keyPrefix: config.redis.keyPrefix,
                  commandTimeoutMs: config.redis.commandTimeoutMs,
                },
        });
  const rateLimit =
    limiter === undefined
      ? undefined
      : createRateLimit({
          limiter,
          requests: config.rateLimit.requests,
          windowSeconds: config.rateLimit.windowSeconds,
          identify,
          common,
          counted: (result) => metrics.rateLimitDecision(result),
        });
  const app = createExpressApp(routes, {
    pairs: new Set(pairs),
    observerFor,
    tracer,
    logger: deps.logger,
    common,
    cors,
  });
  const dispatchDeps = {
    pairs,
    observerFor,
    isDraining: deps.isClosingConnections ?? deps.isDraining,
    tracer,
    logger: deps.logger,
  };
  return {
    reader,
    stream,
    accept: feed.publish,
    listener: createRequestListener(routes, app, { ...dispatchDeps, common, guard, cors, rateLimit }),
    server: {
      limits: {
        headersTimeoutMs: config.limits.headersTimeoutMs,
        requestTimeoutMs: config.limits.requestTimeoutMs,
        maxHeaderBytes: config.limits.maxHeaderBytes,
        maxConnections: config.limits.maxConnectionsPerWorker,
      },
      handlers: guard,
      onConnectionDropped: () => metrics.connectionDropped(),
    },
    async close() {
      stream.close();
      l1.close();
      await limiter?.close();
    },
  };
}

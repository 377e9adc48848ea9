import type { RequestListener } from 'node:http';
import type { SharedCache } from '../application/ports';
import { createPriceReader, type PriceReader } from '../application/price-reader';
import type { Config } from '../config';
import { createMemoryCache } from '../infrastructure/cache/memory-cache';
import { createClientRateLimiter } from '../infrastructure/rate-limit/client-rate-limiter';
import { createApp, createRequestListener } from '../presentation/app';
import { createPriceHandler } from '../presentation/price-route';
import { createPriceStream, type PriceStream } from '../presentation/price-stream';
import type { PriceSnapshot } from '../application/price-snapshot';
import { createRateLimit } from '../presentation/rate-limit';
import { createRequestGuard, type RequestGuard } from '../presentation/request-guard';
import { createRequestTracer } from '../observability/request-tracing';
import { rawHeader } from '../presentation/http-headers';
import { SECURITY_HEADERS, createCors } from '../presentation/security-headers';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

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
    readonly handlers: Pick<RequestGuard, 'clientError' | 'checkExpectation' | 'connect'>;
    readonly onConnectionDropped: () => void;
  };
  close(): Promise<void>;
}

/** The read path: L1, L2, the price handler and the Express app behind the fast dispatcher. */
export function buildHttp(
  config: Config,
  deps: { metrics: Metrics; logger: Logger; shared: SharedCache; isDraining: () => boolean },
): HttpParts {
  const l1 = createMemoryCache({ maxStalenessMs: config.price.maxStalenessMs });
  const reader = createPriceReader({ l1, l2: deps.shared, counters: deps.metrics });
  const freshness = { freshnessMs: config.price.freshnessMs, maxStalenessMs: config.price.maxStalenessMs };
  deps.metrics.setPriceAgeProvider((pair) => {
    const price = l1.get(pair)?.price;
    return price === undefined ? undefined : (Date.now() - price.timestampMs) / 1000;
  });
  const cors = createCors(config.corsAllowOrigins);
  // Built once: every response writes this list as it is.
  const common = Object.freeze([...SECURITY_HEADERS, ...(cors?.staticHeaders ?? [])]);
  const priceHandler = createPriceHandler({
    reader,
    freshness,
    retryAfterSeconds: Math.max(1, Math.ceil(config.price.refreshIntervalMs / 1000)),
    pairs: config.pairs.map((p) => p.slug),
    countServed: (pair) => deps.metrics.priceServedCounter(pair),
    common,
    extraHeaders: cors !== undefined || config.rateLimit.requests > 0,
  });
  const stream = createPriceStream({
    settings: config.stream,
    reader,
    priceHandler,
    trustedProxyHops: config.rateLimit.trustedProxyHops,
    trustedProxyCidrs: config.rateLimit.trustedProxyCidrs,
    common,
    retryAfterSeconds: Math.max(1, Math.ceil(config.stream.retryMs / 1000)),
    metrics: deps.metrics,
  });
  const guard = createRequestGuard({
    maxBodyBytes: config.limits.maxBodyBytes,
    common,
    rejected: (reason) => deps.metrics.requestRejected(reason),
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
  const appDeps = {
    priceHandler,
    stream,
    reader,
    freshness,
    pairs: config.pairs,
    sharedCacheStatus: () => deps.shared.status(),
    isDraining: deps.isDraining,
    metrics: deps.metrics,
    tracer: createRequestTracer(config.traceRequestsPerSecond, (req) => rawHeader(req, 'traceparent')),
    logger: deps.logger,
    common,
    guard,
    cors,
    rateLimit:
      limiter === undefined
        ? undefined
        : createRateLimit({
            limiter,
            requests: config.rateLimit.requests,
            windowSeconds: config.rateLimit.windowSeconds,
            trustedProxies: {
              hops: config.rateLimit.trustedProxyHops,
              cidrs: config.rateLimit.trustedProxyCidrs,
            },
            common,
            counted: (result) => deps.metrics.rateLimitDecision(result),
            identityFallback: () => deps.metrics.rateLimitIdentityFallback(),
          }),
  };
  const app = createApp(appDeps);
  return {
    reader,
    stream,
    accept(snapshot) {
      reader.accept(snapshot);
      // Only what L1 now holds: an older snapshot arriving late (IPC and L2 race) is not news.
      if (reader.peek(snapshot.pair) === snapshot) stream.publish(snapshot);
    },
    listener: createRequestListener(app, appDeps),
    server: {
      limits: {
        headersTimeoutMs: config.limits.headersTimeoutMs,
        requestTimeoutMs: config.limits.requestTimeoutMs,
        maxHeaderBytes: config.limits.maxHeaderBytes,
        maxConnections: config.limits.maxConnectionsPerWorker,
      },
      handlers: guard,
      onConnectionDropped: () => deps.metrics.connectionDropped(),
    },
    async close() {
      stream.close();
      l1.close();
      await limiter?.close();
    },
  };
}

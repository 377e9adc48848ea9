import type { RequestListener } from 'node:http';
import type { SharedCache } from '../application/ports';
import { createPriceReader, type PriceReader } from '../application/price-reader';
import type { Config } from '../config';
import { createMemoryCache } from '../infrastructure/cache/memory-cache';
import { createApp, createRequestListener } from '../presentation/app';
import { createPriceHandler } from '../presentation/price-route';
import { createRequestTracer } from '../presentation/request-tracing';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';

/** The read path: L1, L2, the price handler and the Express app behind the fast dispatcher. */
export function buildHttp(
  config: Config,
  deps: { metrics: Metrics; logger: Logger; shared: SharedCache; isDraining: () => boolean },
): { reader: PriceReader; listener: RequestListener; close(): void } {
  const l1 = createMemoryCache({ maxStalenessMs: config.price.maxStalenessMs });
  const reader = createPriceReader({ l1, l2: deps.shared, counters: deps.metrics });
  const freshness = { freshnessMs: config.price.freshnessMs, maxStalenessMs: config.price.maxStalenessMs };
  deps.metrics.setPriceAgeProvider((pair) => {
    const price = l1.get(pair)?.price;
    return price === undefined ? undefined : (Date.now() - price.timestampMs) / 1000;
  });
  const priceHandler = createPriceHandler({
    reader,
    freshness,
    retryAfterSeconds: Math.max(1, Math.ceil(config.price.refreshIntervalMs / 1000)),
    pairs: config.pairs.map((p) => p.slug),
    countServed: (pair) => deps.metrics.priceServedCounter(pair),
  });
  const appDeps = {
    priceHandler,
    reader,
    freshness,
    pairs: config.pairs,
    sharedCacheStatus: () => deps.shared.status(),
    isDraining: deps.isDraining,
    metrics: deps.metrics,
    tracer: createRequestTracer(config.traceRequestsPerSecond),
    logger: deps.logger,
  };
  const app = createApp(appDeps);
  return { reader, listener: createRequestListener(app, appDeps), close: () => l1.close() };
}

import type { RequestListener } from 'node:http';
import type { SharedCache } from './application/ports';
import { createPriceReader, type PriceReader } from './application/price-reader';
import { createPriceRefresher, type PriceRefresher } from './application/price-refresher';
import type { PriceSnapshot } from './application/price-snapshot';
import type { Config } from './config';
import { createMemoryCache } from './infrastructure/cache/memory-cache';
import { createDisabledSharedCache, createRedisCache } from './infrastructure/cache/redis-cache';
import { ADAPTERS } from './infrastructure/sources/exchanges';
import { createHttpPriceSource } from './infrastructure/sources/http-price-source';
import { createApp, createRequestListener } from './presentation/app';
import { createPriceHandler } from './presentation/price-route';
import type { Logger } from './shared/logger';
import type { Metrics } from './shared/metrics';

/** The only place where infrastructure is constructed and wired to the application. */

export function createSharedCache(config: Config, deps: { metrics: Metrics; logger: Logger }): SharedCache {
  if (config.redis.url === undefined) return createDisabledSharedCache();
  return createRedisCache(
    {
      url: config.redis.url,
      keyPrefix: config.redis.keyPrefix,
      commandTimeoutMs: config.redis.commandTimeoutMs,
      snapshotTtlMs: config.price.maxStalenessMs,
      sourceResultTtlMs: config.price.maxSourceAgeMs,
    },
    deps,
  );
}

/** The write path: sources, breakers and the refresher. One per replica (the cluster primary). */
export function buildRefresher(
  config: Config,
  deps: { metrics: Metrics; logger: Logger; shared: SharedCache; publish: (snapshot: PriceSnapshot) => void },
): { refresher: PriceRefresher; close(): Promise<void> } {
  const sources = config.sources.map((source) => {
    const adapter = ADAPTERS[source.name];
    return createHttpPriceSource(
      adapter,
      {
        baseUrl: source.baseUrl ?? adapter.defaultBaseUrl,
        timeoutMs: config.upstream.timeoutMs,
        retries: config.upstream.retries,
        retryBaseDelayMs: config.upstream.retryBaseDelayMs,
        banCooldownMs: config.upstream.banCooldownMs,
        defaultRateLimitCooldownMs: config.price.refreshIntervalMs,
        breaker: {
          errorThresholdPercent: config.upstream.breakerErrorThresholdPercent,
          volumeThreshold: config.upstream.breakerVolumeThreshold,
          resetMs: config.upstream.breakerResetMs,
        },
      },
      deps,
    );
  });
  const refresher = createPriceRefresher({
    sources,
    pairs: config.pairs,
    shared: deps.shared,
    rules: {
      minQuorum: config.price.minQuorum,
      maxDeviationBps: config.price.maxDeviationBps,
      maxSourceAgeMs: config.price.maxSourceAgeMs,
    },
    intervalMs: config.price.refreshIntervalMs,
    publish: deps.publish,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  return {
    refresher,
    async close() {
      await refresher.stop();
      for (const source of sources) source.shutdown();
    },
  };
}

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
    logger: deps.logger,
  };
  const app = createApp(appDeps);
  return { reader, listener: createRequestListener(app, appDeps), close: () => l1.close() };
}

import type { SharedCache } from '../application/ports';
import { createPriceRefresher, type PriceRefresher } from '../application/price-refresher';
import type { PriceSnapshot } from '../application/price-snapshot';
import type { Config } from '../config';
import { ADAPTERS } from '../infrastructure/sources/exchanges';
import { createHttpPriceSource } from '../infrastructure/sources/http-price-source';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

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

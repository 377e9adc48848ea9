import type { SharedCache } from '../application/ports';
import type { Config } from '../config';
import { createDisabledSharedCache, createRedisCache } from '../infrastructure/cache/redis-cache';
import { createLogger, type Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { metricVocabulary } from './metric-vocabulary';

// The composition folder is the only place infrastructure is constructed. It is split by process role so a
// worker never loads the exchange clients and a primary never loads Express.

export function createSharedCache(config: Config, deps: { metrics: Metrics; logger: Logger }): SharedCache {
  if (config.redis.topology === undefined) return createDisabledSharedCache();
  return createRedisCache(
    {
      topology: config.redis.topology,
      keyPrefix: config.redis.keyPrefix,
      commandTimeoutMs: config.redis.commandTimeoutMs,
      snapshotTtlMs: config.price.maxStalenessMs,
      sourceResultTtlMs: config.price.maxSourceAgeMs,
    },
    deps,
  );
}

/** What every process role starts from: its logger, its metrics registry and its L2 connection. */
export interface Common {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly shared: SharedCache;
}

export function buildCommon(
  config: Config,
  /** Tests run several instances in one process: quiet logs, and no process-wide default metrics. */
  options: { silentLogs?: boolean; defaultMetrics?: boolean } = {},
): Common {
  const logger = createLogger({
    level: config.logLevel,
    service: config.serviceName,
    silent: options.silentLogs,
  });
  const metrics = createMetrics({
    vocabulary: metricVocabulary(config),
    redis: config.redis.topology !== undefined,
    defaultMetrics: options.defaultMetrics,
  });
  return { logger, metrics, shared: createSharedCache(config, { metrics, logger }) };
}

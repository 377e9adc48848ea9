import type { SharedCache } from '../application/ports';
import type { Config } from '../config';
import { createDisabledSharedCache } from '../infrastructure/cache/disabled-shared-cache';
import { createRedisCache } from '../infrastructure/cache/redis-cache';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { buildLogsAndMetrics, type LogsAndMetrics } from './logs-and-metrics';

// The composition folder is the only place infrastructure is constructed. It is split by process role so a
// worker never loads the exchange clients or the Redis client, and a primary never loads Express.

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

/** What the publishing roles (cluster primary, single process) start from: logs, metrics and L2. */
export interface Common extends LogsAndMetrics {
  readonly shared: SharedCache;
}

export function buildCommon(
  config: Config,
  /** Tests run several instances in one process: quiet logs, and no process-wide default metrics. */
  options: { silentLogs?: boolean; defaultMetrics?: boolean } = {},
): Common {
  const { logger, metrics } = buildLogsAndMetrics(config, options);
  return { logger, metrics, shared: createSharedCache(config, { metrics, logger }) };
}

import type { Config } from '../config';
import { createLogger, type Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { metricVocabulary } from './metric-vocabulary';

export interface LogsAndMetrics {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Every process role's logger and metrics registry (a cluster worker's are all it builds here). */
export function buildLogsAndMetrics(
  config: Config,
  options: {
    /** Tests run several instances in one process: quiet logs, and no process-wide default metrics. */
    silentLogs?: boolean;
    defaultMetrics?: boolean;
    /** Whether this process holds a Redis connection of its own (a cluster worker reads L2 via its primary). */
    redisConnection?: boolean;
  } = {},
): LogsAndMetrics {
  const logger = createLogger({
    level: config.logLevel,
    service: config.serviceName,
    silent: options.silentLogs,
  });
  const metrics = createMetrics({
    vocabulary: metricVocabulary(config),
    redis: (options.redisConnection ?? true) && config.redis.topology !== undefined,
    defaultMetrics: options.defaultMetrics,
  });
  return { logger, metrics };
}

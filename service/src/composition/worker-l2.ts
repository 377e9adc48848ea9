import type { SharedCacheReads } from '../application/ports';
import type { Config } from '../config';
import { createDisabledSharedCache } from '../infrastructure/cache/disabled-shared-cache';

/**
 * A cluster worker's L2: the primary's Redis, read through the primary (cluster/primary-queries.ts), or the
 * disabled one without Redis (nothing to ask for).
 */
export function workerSharedCache(config: Config, throughPrimary: SharedCacheReads): SharedCacheReads {
  return config.redis.topology === undefined ? createDisabledSharedCache() : throughPrimary;
}

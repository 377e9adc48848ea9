import type { SharedCacheReads } from '../application/ports';
import type { PriceHistory } from '../application/price-history';
import type { Config } from '../config';
import { createDisabledSharedCache } from '../infrastructure/cache/disabled-shared-cache';
import { createHistoryStore } from './history';

/** What a cluster worker can read through its primary (cluster/primary-queries.ts). */
export interface ThroughPrimary {
  readonly shared: SharedCacheReads;
  readonly history: PriceHistory;
}

/**
 * Where a cluster worker reads L2 and the price history. L2 (a read on an L1 miss, rare: the primary pushes
 * every snapshot) through the primary, so a worker holds no cache connection and loads no snapshot schemas;
 * nothing without Redis. The history from Redis directly when configured: a day of candles through the
 * primary's IPC took 3–5 ms more per query and queued every worker's queries behind the primary's refresh
 * (docs/performance-accounting.md); without Redis it lives in the primary and is asked there.
 */
export function workerReads(config: Config, throughPrimary: ThroughPrimary) {
  const redis = config.redis.topology !== undefined;
  return {
    shared: redis ? throughPrimary.shared : createDisabledSharedCache(),
    history: redis ? createHistoryStore(config) : throughPrimary.history,
  };
}

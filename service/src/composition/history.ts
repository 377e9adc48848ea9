import { createHistoryRecorder } from '../application/history-recorder';
import type { PriceHistory } from '../application/price-history';
import type { PriceSnapshot } from '../application/price-snapshot';
import type { Config } from '../config';
import { createMemoryHistory } from '../infrastructure/history/memory-history';
import { createRedisHistory } from '../infrastructure/history/redis-history';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { historyRetention, historyRules } from './history-settings';

/**
 * The store the publishing process writes to and its readers ask: Redis when configured (shared by every
 * replica), else this process's memory. In a cluster the primary's, which its workers query over IPC.
 */
export function createHistoryStore(config: Config): PriceHistory {
  const topology = config.redis.topology;
  if (topology === undefined) return createMemoryHistory(historyRetention(config), historyRules(config));
  return createRedisHistory({
    topology,
    keyPrefix: config.redis.keyPrefix,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    retention: historyRetention(config),
    rules: historyRules(config),
  });
}

/** How long the shutdown waits for pending points to be written before it closes the store. */
const FLUSH_TIMEOUT_MS = 1_000;

export interface HistoryWriter {
  /** A snapshot this process published: recorded off the caller's path (queued, written by one loop). */
  record(snapshot: PriceSnapshot): void;
  /** Flush what is pending (bounded), stop, close the store: a shutdown step, after the refresher's. */
  readonly step: { readonly name: string; run(): Promise<void> };
}

/** The recorder behind the publishing process's own publish (cluster primary, or the only process). */
export function startHistoryWriter(
  config: Config,
  deps: { history: PriceHistory; metrics: Metrics; logger: Logger },
): HistoryWriter {
  let follower: ((snapshot: PriceSnapshot) => void) | undefined;
  const recorder = createHistoryRecorder({
    history: deps.history,
    feed: {
      follow(f) {
        follower = f;
        return () => {
          follower = undefined;
        };
      },
    },
    freshness: { freshnessMs: config.price.freshnessMs, maxStalenessMs: config.price.maxStalenessMs },
    refreshIntervalMs: config.price.refreshIntervalMs,
    maxPending: config.history.maxPendingPoints,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  return {
    record: (snapshot) => follower?.(snapshot),
    step: {
      name: 'flush price history',
      async run() {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
        });
        await Promise.race([recorder.idle(), timedOut]);
        clearTimeout(timer);
        recorder.stop();
        const lost = recorder.pending();
        if (lost > 0) deps.logger.warn('price history points not written before exit', { points: lost });
        await deps.history.close();
      },
    },
  };
}

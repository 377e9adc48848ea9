import { createHistoryRecorder } from '../application/history-recorder';
import type { PriceHistory } from '../application/price-history';
import type { PriceSnapshot } from '../application/price-snapshot';
import type { Config } from '../config';
import type { InEffectRules } from '../domain/history/price-point';
import { createMemoryHistory, type HistoryRetention } from '../infrastructure/history/memory-history';
import { createRedisHistory } from '../infrastructure/history/redis-history';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/**
 * How long a price stays in effect with no point after it: the maximum staleness. The service publishes a
 * point every round while it runs (and an explicit end once the price passes MAX_STALENESS), so a longer
 * silence means nothing was published, and no price is passed off as in effect through it.
 */
export function historyRules(config: Config): InEffectRules {
  return { maxInEffectMs: config.price.maxStalenessMs };
}

/** How long points and candles are kept (HISTORY_* settings). */
export function historyRetention(config: Config): HistoryRetention {
  return { pointsMs: config.history.pointsRetentionMs, minutesMs: config.history.minutesRetentionMs };
}

/** History in Redis when Redis is configured (shared by every process and replica), undefined without. */
export function createSharedHistory(config: Config): PriceHistory | undefined {
  const topology = config.redis.topology;
  if (topology === undefined) return undefined;
  return createRedisHistory({
    topology,
    keyPrefix: config.redis.keyPrefix,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    retention: historyRetention(config),
    rules: historyRules(config),
  });
}

/**
 * The store the publishing process writes to: Redis when configured, else this process's memory (the
 * primary's in a cluster, whose workers then ask it over IPC).
 */
export function createHistoryStore(config: Config): PriceHistory {
  return createSharedHistory(config) ?? createMemoryHistory(historyRetention(config), historyRules(config));
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
